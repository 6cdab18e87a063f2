package http

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/auth"
	"github.com/probation-register/register/register"
)

// jwks publishes every public key of the ring, old ones included, so that
// receipts signed before a rotation still verify offline.
func (s *Server) jwks(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.JSON(http.StatusOK, s.Receipts.JWKS())
}

// appendReceipt replaces the closing brace of a JSON object with a signed
// receipt over the object, signed in a batch with concurrent requests'.
// A receipt is base64url, digits, dots and tildes only, so it goes
// between quotes as it is.
func (s *Server) appendReceipt(obj []byte, number, checker string, checkedAt time.Time) ([]byte, error) {
	s.batcherOnce.Do(func() { s.batcher = &auth.ReceiptBatcher{Receipts: s.Receipts, Linger: auth.DefaultLinger} })
	// The receipt is written into obj's own buffer, over its closing brace,
	// once the batch (which reads obj) is signed.
	item := auth.ReceiptItem{Number: number, Checker: checker, CheckedAt: checkedAt, Result: obj}
	obj, err := s.batcher.Append(obj[:len(obj)-1], `,"receipt":"`, item)
	if err != nil {
		return nil, err
	}
	return append(obj, `"}`...), nil
}

type verifyReceiptRequest struct {
	Receipt string `json:"receipt" validate:"required"`
}

type verifyReceiptResponse struct {
	Valid   bool                `json:"valid"`
	KeyID   string              `json:"kid,omitempty"`
	Payload *auth.ReceiptClaims `json:"payload,omitempty"`
}

// verifyReceipt says whether a receipt is genuine and returns its payload.
func (s *Server) verifyReceipt(c *gin.Context) {
	var req verifyReceiptRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	claims, kid, err := s.Receipts.Verify(req.Receipt)
	if err != nil {
		c.JSON(http.StatusOK, verifyReceiptResponse{Valid: false})
		return
	}
	c.JSON(http.StatusOK, verifyReceiptResponse{Valid: true, KeyID: kid, Payload: claims})
}

// publicChecker names an anonymous public check in a receipt.
const publicChecker = "public"

// orgChecker names an organisation's check in a receipt.
func orgChecker(id int64) string { return "organisation:" + register.FormatID(id) }
