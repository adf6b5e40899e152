package web

import (
	"net/http"
	"strings"

	"github.com/jack-paas/jack/internal/httpapi"
)

// cookieName holds the API token the user signed in with. It is HttpOnly
// and SameSite=Strict, and the dashboard only reads: a forged cross-site
// request can change nothing.
const cookieName = "jack_token"

// authenticated lets a request through when its cookie holds a valid API
// token, and sends it to the sign-in page otherwise.
func (h *handler) authenticated(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(cookieName)
		if err != nil || !h.valid(r, c.Value) {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		next(w, r)
	}
}

func (h *handler) valid(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	_, err := h.cfg.Store.FindToken(r.Context(), httpapi.HashToken(token))
	return err == nil
}

type loginPage struct{ Error string }

func (h *handler) loginPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, "login", loginPage{})
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	token := strings.TrimSpace(r.PostFormValue("token"))
	if !h.valid(r, token) {
		w.WriteHeader(http.StatusUnauthorized)
		h.render(w, "login", loginPage{Error: "That token is not valid. The admin token is in the server's data folder (admin-token)."})
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
