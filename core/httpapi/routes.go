package httpapi

import (
	"sort"
	"strings"
)

// RouteTemplates lists the method and OpenAPI path template of every route the server
// registers under /api/v1 and the health checks, for the coverage test.
func (s *Server) RouteTemplates() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.app.GetRoutes(true) {
		if r.Method == "HEAD" || strings.HasSuffix(r.Path, "/*") || r.Path == "/" {
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, ":") {
				segs[i] = "{" + strings.TrimPrefix(seg, ":") + "}"
			}
		}
		key := r.Method + " " + strings.Join(segs, "/")
		if !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}
