package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/jack-paas/jack"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

// writeJSON writes v as the JSON body with the status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// readJSON decodes the request body into v, refusing unknown fields,
// trailing data and bodies over maxBody with an EINVALID that says which.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return jack.Errorf(jack.EINVALID, "request body has data after its JSON value; send one JSON object")
	}
	return nil
}

// bodyError turns a JSON decoding error into a message for the caller.
func bodyError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
	)
	switch {
	case errors.Is(err, io.EOF):
		return jack.Errorf(jack.EINVALID, "request body is empty; send a JSON object")
	case errors.As(err, &maxErr):
		return jack.Errorf(jack.EINVALID, "request body is larger than %d KiB", maxBody>>10)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return jack.Errorf(jack.EINVALID, "request body is not valid JSON: %v", err)
	case errors.As(err, &typeErr):
		return jack.Errorf(jack.EINVALID, "request body field %q must be a JSON %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this case.
		return jack.Errorf(jack.EINVALID, "request body has unknown field %s; check the client's version against the server's", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return jack.Errorf(jack.EINVALID, "request body is not valid: %v", err)
}

// queryInt reads an integer query parameter, def when absent.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, jack.Errorf(jack.EINVALID, "query parameter %s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}

// queryBool reports whether a query flag such as follow=1 is set.
func queryBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, jack.Errorf(jack.EINVALID, "query parameter %s=%q is not 1 or 0", name, v)
	}
}

// pathID reads a numeric ID from the path.
func pathID(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, jack.Errorf(jack.EINVALID, "%s %q is not a positive number", name, v)
	}
	return id, nil
}

// clampLimit keeps a listing's limit between 1 and max, def when 0.
func clampLimit(n int64, def, max int) int {
	switch {
	case n == 0:
		return def
	case n > int64(max):
		return max
	}
	return int(n)
}
