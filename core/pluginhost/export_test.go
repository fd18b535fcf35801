package pluginhost

import (
	"context"
	"net/url"

	"github.com/kvarter/kvarter/sdk"
)

// ReadMultipart exposes readMultipart to the package's tests: the form the plugin
// would get for route, the content types of the files that would be stored, and the
// error of the form or else of its first refused file.
func ReadMultipart(body []byte, boundary string, route sdk.Route) (url.Values, []string, error) {
	form, files, refused, err := readMultipart(context.Background(), body, boundary, &compiledRoute{Route: route})
	if err == nil && len(refused) > 0 {
		err = refused[0].err
	}
	var types []string
	for _, f := range files {
		types = append(types, f.upload.ContentType)
	}
	return form, types, err
}

// Orient and JPEGOrientation expose the EXIF turning to the package's tests.
var (
	Orient          = orient
	JPEGOrientation = jpegOrientation
)
