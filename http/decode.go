package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-playground/validator/v10"

	"github.com/probation-register/register/register"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their JSON names, as clients know them.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name := strings.SplitN(f.Tag.Get("json"), ",", 2)[0]
		if name == "-" {
			return ""
		}
		return name
	})
	return v
}

// decode reads a JSON body into dst, rejecting unknown fields, trailing
// data and oversized bodies, then validates it.
func decode(c *gin.Context, dst any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return register.Errorf(register.EINVALID, "The body must hold one JSON object and nothing after it.")
	}
	return validateStruct(dst)
}

// noBody is the one check every write route that takes no body makes
// before anything else: an empty body, whitespace, {} or null is fine; any
// key is refused with 400 naming it, so that a client sending fields the
// route does not read is told rather than silently ignored. Oversized and
// malformed bodies get the same answers as on every other route.
func noBody(c *gin.Context) error {
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return decodeError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var none struct{}
	if err := dec.Decode(&none); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return register.Errorf(register.EINVALID, "The body must hold one JSON object and nothing after it.")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return register.Errorf(register.EINVALID, "A JSON body is required.")
	case errors.As(err, &mbe):
		return register.Errorf(register.ETOOLARGE, "The body is larger than %d bytes.", MaxBodyBytes)
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return register.Errorf(register.EINVALID, "The body is not valid JSON.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return register.Errorf(register.EINVALID, "The body must be a JSON object.")
		}
		return register.FieldError(typ.Field, "must be "+jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json reports unknown fields only in its message.
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return register.FieldError(field, "is not a known field")
	}
	return register.Errorf(register.EINVALID, "The body could not be read.")
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}

// validateStruct runs the validator tags and turns failures into plain words.
func validateStruct(v any) error {
	err := validate.Struct(v)
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return err
	}
	out := register.Validation{}
	for _, fe := range verrs {
		// Namespace is "request.items[3].name": drop the struct name.
		name := fe.Namespace()
		if i := strings.IndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		out.Add(name, message(fe))
	}
	return out.Err()
}

func message(fe validator.FieldError) string {
	p := fe.Param()
	isString := fe.Kind() == reflect.String
	switch fe.Tag() {
	case "required", "required_without":
		return "is required"
	case "email":
		return "must be an email address"
	case "oneof":
		return "must be one of " + strings.Join(strings.Fields(p), ", ")
	case "min":
		if isString {
			return "must be at least " + p + " characters"
		} else if fe.Kind() == reflect.Slice {
			return "must have at least " + p + " items"
		}
		return "must be at least " + p
	case "max":
		if isString {
			return "must be at most " + p + " characters"
		} else if fe.Kind() == reflect.Slice {
			return "must have at most " + p + " items"
		}
		return "must be at most " + p
	case "gte":
		return "must be at least " + p
	case "lte":
		return "must be at most " + p
	case "datetime":
		if p == "2006-01-02" {
			return "must be a date in the form YYYY-MM-DD"
		}
		return "must be a date and time in RFC 3339 form"
	case "printascii":
		return "must be plain text"
	}
	return fmt.Sprintf("is not valid (%s)", fe.Tag())
}
