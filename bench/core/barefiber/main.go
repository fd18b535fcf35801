// Command barefiber is the baseline for the core's load benchmark: a Fiber handler that
// returns a fixed JSON object, with nothing else in the way.
package main

import (
	"flag"
	"log"

	"github.com/gofiber/fiber/v2"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18181", "listen address")
	flag.Parse()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	body := fiber.Map{"user": fiber.Map{"id": "01900000-0000-7000-8000-000000000000", "display_name": "Baseline"}, "roles": fiber.Map{}}
	app.Get("/api/v1/me", func(c *fiber.Ctx) error { return c.JSON(body) })
	log.Fatal(app.Listen(*addr))
}
