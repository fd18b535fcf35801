package pluginhost

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kvarter/kvarter/sdk"
)

// routeTable matches request paths against the routes a plugin's manifest declares.
// Nothing else reaches the plugin.
type routeTable struct {
	routes []compiledRoute
	// customBody is set when some route declares its own body limit, so that only
	// such a plugin's requests pay for a second match before the body is read.
	customBody bool
}

type compiledRoute struct {
	sdk.Route
	segs []string // literal segments, or "{name}" for parameters
	// For a domain naming a path parameter ("nbh:{id}"): its kind and the index of
	// the parameter's segment; domainSeg is -1 for a fixed domain.
	domainKind string
	domainSeg  int
}

// maxSegments bounds the segments of a route's path; a longer request path matches
// nothing. It lets a request's path be split without allocating.
const maxSegments = 16

var routeMethods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// compileRoutes checks a manifest's routes: each API route under /api/v1/<plugin>/
// and each page under /<plugin>/, a known method (GET or POST for a page), well-formed
// parameters, and a domain that names a parameter of its path.
func compileRoutes(plugin string, routes []sdk.Route) (*routeTable, error) {
	t := &routeTable{}
	for _, r := range routes {
		prefix := apiPrefix(plugin)
		switch r.Kind {
		case sdk.RouteAPI:
			if !routeMethods[r.Method] {
				return nil, fmt.Errorf("route %s %s: method must be GET, POST, PUT, PATCH or DELETE", r.Method, r.Path)
			}
		case sdk.RoutePage:
			prefix = pagePrefix(plugin)
			if r.Method != "GET" && r.Method != "POST" {
				return nil, fmt.Errorf("page %s %s: method must be GET or POST (HTML forms know no other)", r.Method, r.Path)
			}
		default:
			return nil, fmt.Errorf("route %s %s: unknown kind %d", r.Method, r.Path, r.Kind)
		}
		if r.Path != prefix && !strings.HasPrefix(r.Path, prefix+"/") {
			return nil, fmt.Errorf("route %s %s: path must start with %s/", r.Method, r.Path, prefix)
		}
		if r.Permission == "" {
			return nil, fmt.Errorf("route %s %s: no permission (use %q or %q for open routes)", r.Method, r.Path, sdk.PermPublic, sdk.PermAuthenticated)
		}
		if r.MaxBodyBytes < 0 || r.MaxBodyBytes > sdk.MaxRouteBodyBytes {
			return nil, fmt.Errorf("route %s %s: body limit %d must be between 0 (the default, %d) and %d bytes",
				r.Method, r.Path, r.MaxBodyBytes, sdk.DefaultMaxBodyBytes, sdk.MaxRouteBodyBytes)
		}
		if err := checkUploads(r); err != nil {
			return nil, err
		}
		t.customBody = t.customBody || r.MaxBodyBytes > 0
		segs := splitPath(r.Path)
		if len(segs) > maxSegments {
			return nil, fmt.Errorf("route %s %s: more than %d path segments", r.Method, r.Path, maxSegments)
		}
		params := map[string]int{}
		for i, s := range segs {
			if strings.HasPrefix(s, "{") {
				if !strings.HasSuffix(s, "}") || len(s) < 3 {
					return nil, fmt.Errorf("route %s %s: malformed parameter %q", r.Method, r.Path, s)
				}
				params[s[1:len(s)-1]] = i
			}
		}
		cr := compiledRoute{Route: r, segs: segs, domainSeg: -1}
		kind, param, _ := strings.Cut(r.Domain, ":")
		seg, isParam := params[strings.TrimSuffix(strings.TrimPrefix(param, "{"), "}")]
		switch {
		case r.Domain == "" || r.Domain == sdk.DomainCity:
		case (kind == "nbh" || kind == "org") && strings.HasPrefix(param, "{") && strings.HasSuffix(param, "}") && isParam:
			cr.domainKind, cr.domainSeg = kind, seg
		default:
			return nil, fmt.Errorf("route %s %s: domain %q must be \"\", \"city\", \"nbh:{param}\" or \"org:{param}\" with a parameter of the path", r.Method, r.Path, r.Domain)
		}
		t.routes = append(t.routes, cr)
	}
	return t, nil
}

// bodyLimit is the body limit of the route method and path match, 0 for the default.
func (t *routeTable) bodyLimit(method, path string) int {
	if !t.customBody {
		return 0
	}
	r, _, ok := t.match(method, path)
	if !ok {
		return 0
	}
	return int(r.MaxBodyBytes)
}

// allow lists the methods of the routes matching path, HEAD beside GET, sorted.
func (t *routeTable) allow(path string) []string {
	var buf [maxSegments]string
	segs, ok := splitInto(buf[:0], path)
	if !ok {
		return nil
	}
	var out []string
	for i := range t.routes {
		r := &t.routes[i]
		if len(r.segs) != len(segs) || !r.matches(segs) || slices.Contains(out, r.Method) {
			continue
		}
		out = append(out, r.Method)
		if r.Method == "GET" {
			out = append(out, "HEAD")
		}
	}
	slices.Sort(out)
	return out
}

// apiPrefix and pagePrefix are where a plugin's API routes and pages live.
func apiPrefix(plugin string) string  { return "/api/v1/" + plugin }
func pagePrefix(plugin string) string { return "/" + plugin }

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match finds the route for a request and the domain its permission is checked in.
// When several match, the most specific wins: at the first segment where they
// differ, a literal beats a parameter.
func (t *routeTable) match(method, path string) (route *compiledRoute, domain string, ok bool) {
	var buf [maxSegments]string
	segs, ok := splitInto(buf[:0], path)
	if !ok {
		return nil, "", false
	}
	for i := range t.routes {
		r := &t.routes[i]
		if r.Method != method || len(r.segs) != len(segs) || !r.matches(segs) {
			continue
		}
		if route == nil || r.moreSpecificThan(route) {
			route = r
		}
	}
	if route == nil {
		return nil, "", false
	}
	if route.domainSeg < 0 {
		return route, route.Domain, true
	}
	return route, route.domainKind + ":" + segs[route.domainSeg], true
}

// splitInto appends the segments of path to buf without growing it; false when they
// do not fit.
func splitInto(buf []string, path string) ([]string, bool) {
	path = strings.Trim(path, "/")
	for {
		if len(buf) == cap(buf) {
			return nil, false
		}
		seg, rest, more := strings.Cut(path, "/")
		buf = append(buf, seg)
		if !more {
			return buf, true
		}
		path = rest
	}
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
