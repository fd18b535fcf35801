package web

import "net/http"

// adminPlacesRoutes adds the city admins' pages about places and groups to mux.
func (p *Pages) adminPlacesRoutes(mux *http.ServeMux) {}
