// Command ceiling is the benchmark's ceiling: gin in release mode with no
// middleware, answering the verification route with one fixed JSON body the
// size of a real answer. No register can serve faster on this machine, so
// the register's figures are read as fractions of this one's.
//
//	ceiling -http 127.0.0.1:8090 -body ANSWER.json
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

func main() {
	addr := flag.String("http", "127.0.0.1:8090", "listen address")
	bodyFile := flag.String("body", "", "file holding the JSON body to serve (required)")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatalf("ceiling: %v", err)
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/v1/public/registrants/:number", func(c *gin.Context) {
		c.Data(http.StatusOK, "application/json; charset=utf-8", body)
	})
	srv := &http.Server{Addr: *addr, Handler: e, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
