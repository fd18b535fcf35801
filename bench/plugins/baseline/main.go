// Command baseline is the yardstick for the plugin route benchmark: a bare Fiber
// handler that forwards every request to a go-plugin gRPC plugin, with no
// authentication, permission check or route matching.
//
//	baseline -plugin PATH -name NAME -addr 127.0.0.1:18081
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os/exec"

	"github.com/gofiber/fiber/v2"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/hostside"
)

type nopHost struct{ sdk.Host }

func main() {
	path := flag.String("plugin", "", "plugin executable")
	name := flag.String("name", "probe", "plugin name")
	addr := flag.String("addr", "127.0.0.1:18081", "listen address")
	flag.Parse()
	ctx := context.Background()
	cmd := exec.Command(*path, "plugin", *name)
	proc, err := hostside.Launch(ctx, hostside.LaunchOptions{Name: *name, Cmd: cmd})
	if err != nil {
		log.Fatal(err)
	}
	defer proc.Kill()
	dir, _ := exec.Command("mktemp", "-d").Output()
	if err := proc.Configure(ctx, hostside.ConfigureRequest{Store: sdk.StoreConfig{Dialect: "sqlite", DSN: string(dir[:len(dir)-1]) + "/p.db"}}, nopHost{}); err != nil {
		log.Fatal(err)
	}
	if err := proc.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/*", func(c *fiber.Ctx) error {
		h := http.Header{}
		c.Request().Header.VisitAll(func(k, v []byte) { h.Add(string(k), string(v)) })
		resp, err := proc.Handle(c.UserContext(), &hostside.HTTPRequest{
			Method: c.Method(), Path: string([]byte(c.Path())), Header: h, Body: append([]byte(nil), c.Body()...),
		})
		if err != nil {
			return err
		}
		c.Status(resp.Status)
		return c.Send(resp.Body)
	})
	log.Fatal(app.Listen(*addr))
}
