// The API reference: Swagger UI over the service's OpenAPI 3.0 document (an external script,
// since the page's CSP admits no inline one).
window.SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  tryItOutEnabled: false,
});
