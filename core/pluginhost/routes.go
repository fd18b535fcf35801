package pluginhost

import (
	"fmt"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// routeTable matches request paths against the routes a plugin's manifest declares.
// Nothing else reaches the plugin.
type routeTable struct {
	routes []compiledRoute
}

type compiledRoute struct {
	sdk.Route
	segs []string // literal segments, or "{name}" for parameters
}

var routeMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// compileRoutes checks a manifest's routes: each under /api/v1/<plugin>/, a known
// method, well-formed parameters, and a domain that names a parameter of its path.
func compileRoutes(plugin string, routes []sdk.Route) (*routeTable, error) {
	prefix := "/api/v1/" + plugin
	t := &routeTable{}
	for _, r := range routes {
		if !routeMethods[r.Method] {
			return nil, fmt.Errorf("route %s %s: method must be GET, POST, PUT, PATCH or DELETE", r.Method, r.Path)
		}
		if r.Path != prefix && !strings.HasPrefix(r.Path, prefix+"/") {
			return nil, fmt.Errorf("route %s %s: path must start with %s/", r.Method, r.Path, prefix)
		}
		if r.Permission == "" {
			return nil, fmt.Errorf("route %s %s: no permission (use %q or %q for open routes)", r.Method, r.Path, sdk.PermPublic, sdk.PermAuthenticated)
		}
		segs := splitPath(r.Path)
		params := map[string]bool{}
		for _, s := range segs {
			if strings.HasPrefix(s, "{") {
				if !strings.HasSuffix(s, "}") || len(s) < 3 {
					return nil, fmt.Errorf("route %s %s: malformed parameter %q", r.Method, r.Path, s)
				}
				params[s[1:len(s)-1]] = true
			}
		}
		switch kind, param, _ := strings.Cut(r.Domain, ":"); {
		case r.Domain == "" || r.Domain == sdk.DomainCity:
		case (kind == "nbh" || kind == "org") && strings.HasPrefix(param, "{") && strings.HasSuffix(param, "}") && params[param[1:len(param)-1]]:
		default:
			return nil, fmt.Errorf("route %s %s: domain %q must be \"\", \"city\", \"nbh:{param}\" or \"org:{param}\" with a parameter of the path", r.Method, r.Path, r.Domain)
		}
		t.routes = append(t.routes, compiledRoute{Route: r, segs: segs})
	}
	return t, nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match finds the route for a request. When several match, the most specific wins:
// at the first segment where they differ, a literal beats a parameter.
func (t *routeTable) match(method, path string) (*compiledRoute, map[string]string, bool) {
	segs := splitPath(path)
	var best *compiledRoute
	for i := range t.routes {
		r := &t.routes[i]
		if r.Method != method || len(r.segs) != len(segs) || !r.matches(segs) {
			continue
		}
		if best == nil || r.moreSpecificThan(best) {
			best = r
		}
	}
	if best == nil {
		return nil, nil, false
	}
	params := map[string]string{}
	for i, s := range best.segs {
		if isParam(s) {
			params[s[1:len(s)-1]] = segs[i]
		}
	}
	return best, params, true
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") }

func (r *compiledRoute) matches(segs []string) bool {
	for i, s := range r.segs {
		if isParam(s) {
			if segs[i] == "" {
				return false
			}
		} else if s != segs[i] {
			return false
		}
	}
	return true
}

func (r *compiledRoute) moreSpecificThan(o *compiledRoute) bool {
	for i := range r.segs {
		a, b := isParam(r.segs[i]), isParam(o.segs[i])
		if a != b {
			return !a
		}
	}
	return false
}

// domain resolves the route's Domain with the request's path parameters.
func (r *compiledRoute) domain(params map[string]string) string {
	kind, param, ok := strings.Cut(r.Domain, ":")
	if !ok {
		return r.Domain
	}
	return kind + ":" + params[strings.Trim(param, "{}")]
}
