package web

import "net/http"

// adminRoutes adds the city admins' pages to mux.
func (p *Pages) adminRoutes(mux *http.ServeMux) {}
