package httpapi

import (
	"net/http"

	"github.com/jack-paas/jack"
)

// statuses maps each jack error code to the one HTTP status the API answers
// it with. The client maps statuses back only when a body has no code.
var statuses = map[string]int{
	jack.EINVALID:      http.StatusBadRequest,
	jack.EUNAUTHORIZED: http.StatusUnauthorized,
	jack.ENOTFOUND:     http.StatusNotFound,
	jack.ECONFLICT:     http.StatusConflict,
	jack.EFAILED:       http.StatusUnprocessableEntity,
	jack.EUNAVAILABLE:  http.StatusServiceUnavailable,
	jack.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatusCode returns the HTTP status for a jack error code; 500 for a
// code it does not know.
func ErrorStatusCode(code string) int {
	if status, ok := statuses[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

// FromErrorStatusCode returns the jack error code for an HTTP status, for
// error answers that carry no code (a proxy's, say); EINTERNAL for a status
// the table lacks.
func FromErrorStatusCode(status int) string {
	for code, s := range statuses {
		if s == status {
			return code
		}
	}
	return jack.EINTERNAL
}

// writeError writes err as the JSON error body. Internal errors are logged
// with the request and shown to the caller only as a generic message.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, message := jack.ErrorCode(err), jack.ErrorMessage(err)
	if code == jack.EINTERNAL {
		s.logger.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if writeErr := writeJSON(w, ErrorStatusCode(code), ErrorResponse{Error: ErrorBody{Code: code, Message: message}}); writeErr != nil {
		s.logger.Debug("write error response", "path", r.URL.Path, "err", writeErr)
	}
}
