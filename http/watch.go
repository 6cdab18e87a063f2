package http

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Server) addWatch(c *gin.Context) {
	n, err := number(c)
	if err == nil {
		err = noBody(c)
	}
	if err != nil {
		s.Error(c, err)
		return
	}
	w, err := s.Watches.AddWatch(c.Request.Context(), org(c), n)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *Server) removeWatch(c *gin.Context) {
	n, err := number(c)
	if err == nil {
		err = noBody(c)
	}
	if err != nil {
		s.Error(c, err)
		return
	}
	if err := s.Watches.RemoveWatch(c.Request.Context(), org(c), n); err != nil {
		s.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listWatches(c *gin.Context) {
	ws, err := s.Watches.FindWatches(c.Request.Context(), org(c))
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ws})
}
