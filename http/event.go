package http

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/probation-register/register/register"
)

// listEvents is the organisation's feed: every change to a registrant it
// watched, in order, numbered without gaps. A client keeps the cursor of
// the last event it handled and asks for those after it.
func (s *Server) listEvents(c *gin.Context) {
	limit, after, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	evs, err := s.Events.FindEvents(c.Request.Context(), org(c), after, limit)
	if err != nil {
		s.Error(c, err)
		return
	}
	next := after
	if len(evs) > 0 {
		next = evs[len(evs)-1].Cursor
	}
	c.JSON(http.StatusOK, gin.H{"items": evs, "next_after": next})
}

type webhookRequest struct {
	URL    string `json:"url" validate:"required"`
	Secret string `json:"secret"`
}

func (s *Server) createWebhook(c *gin.Context) {
	var req webhookRequest
	if err := decode(c, &req); err != nil {
		s.Error(c, err)
		return
	}
	if err := register.ValidateWebhook(req.URL, req.Secret, s.WebhookInsecure); err != nil {
		s.Error(c, err)
		return
	}
	w, err := s.Webhooks.CreateWebhook(c.Request.Context(), org(c), req.URL, req.Secret)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusCreated, w)
}

func (s *Server) listWebhooks(c *gin.Context) {
	ws, err := s.Webhooks.FindWebhooks(c.Request.Context(), org(c))
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": ws})
}

func (s *Server) getWebhook(c *gin.Context) {
	id, err := pathID(c, "webhook")
	if err != nil {
		s.Error(c, err)
		return
	}
	w, err := s.Webhooks.FindWebhook(c.Request.Context(), org(c), id)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, w)
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id, err := pathID(c, "webhook")
	if err == nil {
		err = noBody(c)
	}
	if err != nil {
		s.Error(c, err)
		return
	}
	if err := s.Webhooks.DeleteWebhook(c.Request.Context(), org(c), id); err != nil {
		s.Error(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listWebhookAttempts(c *gin.Context) {
	id, err := pathID(c, "webhook")
	if err != nil {
		s.Error(c, err)
		return
	}
	limit, _, err := page(c)
	if err != nil {
		s.Error(c, err)
		return
	}
	as, err := s.Webhooks.FindAttempts(c.Request.Context(), org(c), id, limit)
	if err != nil {
		s.Error(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"items": as})
}
