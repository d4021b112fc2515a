package web

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
)

var pathParam = regexp.MustCompile(`:([a-zA-Z_]+)`)

// openAPIPath turns a Fiber path (/x/:id) into an OpenAPI one (/x/{id}).
func openAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// openAPIDoc builds the OpenAPI 3 document from the route table, so that it
// names exactly the routes that exist.
func (s *Server) openAPIDoc() fiber.Map {
	paths := fiber.Map{}
	for _, r := range s.routes() {
		if r.Page {
			continue
		}
		p := openAPIPath(r.Path)
		item, _ := paths[p].(fiber.Map)
		if item == nil {
			item = fiber.Map{}
			paths[p] = item
		}
		op := fiber.Map{
			"summary":   r.Summary,
			"responses": fiber.Map{"default": fiber.Map{"description": "JSON; errors as {\"error\":{\"code\",\"message\",\"field\"}}"}},
		}
		var params []fiber.Map
		for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, fiber.Map{"name": m[1], "in": "path", "required": true, "schema": fiber.Map{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Allow == nil {
			op["security"] = []fiber.Map{}
		} else {
			roles := []string{"platform_admin"}
			for _, a := range r.Allow {
				roles = append(roles, string(a))
			}
			op["x-roles"] = roles
		}
		item[strings.ToLower(r.Method)] = op
	}
	return fiber.Map{
		"openapi": "3.0.3",
		"info":    fiber.Map{"title": "Shelin API", "version": "1"},
		"components": fiber.Map{"securitySchemes": fiber.Map{
			"bearer": fiber.Map{"type": "http", "scheme": "bearer"},
		}},
		"security": []fiber.Map{{"bearer": []string{}}},
		"paths":    paths,
	}
}

// openapi serves the API description.
func (s *Server) openapi(c *fiber.Ctx) error { return c.JSON(s.openAPIDoc()) }
