// Command board is a neighbourhood notice board: residents post notices, anyone reads
// them. It is the complete third-party plugin of docs/plugins.md, whose first listing
// is this file; notices.go holds its domain code.
package main

import (
	"context"
	"io/fs"
	"net/http"

	"github.com/kvarter/kvarter/sdk"
)

type plugin struct{ svc *Service }

func (p *plugin) Manifest() sdk.Manifest {
	return sdk.Manifest{Name: "board", Version: "1.0.0", MinHostVersion: "0.1.0", Routes: p.routes(),
		Permissions: []sdk.Permission{{Name: PermPost, Description: "Post notices in a neighbourhood"}},
		Grants:      []sdk.Grant{{Role: "resident", Permission: PermPost}}}
}

func (p *plugin) routes() []sdk.Route {
	return []sdk.Route{
		sdk.List("/api/v1/board/nbh/{nbh}/notices", sdk.PermPublic, func(r *http.Request, q sdk.ListQuery) (sdk.Page[Notice], error) {
			return p.svc.List(r.Context(), r.PathValue("nbh"), q)
		}).Doc("Notices of a neighbourhood", "Oldest first."),
		sdk.Post("/api/v1/board/nbh/{nbh}/notices", PermPost, func(r *http.Request, in NoticeInput) (Notice, error) {
			return p.svc.Post(r.Context(), sdk.PrincipalFrom(r.Context()), r.PathValue("nbh"), in)
		}).In("nbh:{nbh}").Status(http.StatusCreated).Doc("Post a notice", ""),
	}
}

func (p *plugin) Configure(ctx context.Context, env sdk.Env) (err error) {
	p.svc, err = OpenService(ctx, env.Store)
	return err
}

func (p *plugin) Handler() http.Handler { return sdk.Mux(p.routes()) }
func (p *plugin) Migrations() fs.FS     { return Migrations() }

func main() { sdk.Serve(&plugin{}) }
