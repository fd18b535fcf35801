package openapi

import (
	"fmt"
	"sort"
	"strings"
)

// CheckRequestLimits reports every request body field of doc (a whole document or just
// {"paths": ...}) whose schema states no limit: a string without maxLength, an integer
// without minimum and maximum. Bodies are refused beyond those limits by the decoders
// (sdk.CheckInput), so a field without them is undocumented behaviour.
func CheckRequestLimits(doc map[string]any) error {
	paths, _ := doc["paths"].(map[string]any)
	if paths == nil {
		paths = doc
	}
	var missing []string
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, _ := op.(map[string]any)
			body, _ := o["requestBody"].(map[string]any)
			content, _ := body["content"].(map[string]any)
			media, _ := content["application/json"].(map[string]any)
			schema, _ := media["schema"].(map[string]any)
			if schema == nil {
				continue
			}
			limitsMissing(schema, strings.ToUpper(method)+" "+path+" body", &missing)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("openapi: request fields without a documented limit:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}

func limitsMissing(s map[string]any, at string, missing *[]string) {
	typ, _ := s["type"].(string)
	switch typ {
	case "string":
		if _, ok := s["maxLength"]; !ok {
			*missing = append(*missing, at+": string without maxLength")
		}
	case "integer":
		_, lo := s["minimum"]
		_, hi := s["maximum"]
		if !lo || !hi {
			*missing = append(*missing, at+": integer without minimum and maximum")
		}
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			limitsMissing(items, at+"[]", missing)
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for name, p := range props {
			if ps, ok := p.(map[string]any); ok {
				limitsMissing(ps, at+"."+name, missing)
			}
		}
	}
	if ap, ok := s["additionalProperties"].(map[string]any); ok {
		limitsMissing(ap, at+".*", missing)
	}
	for _, key := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := s[key].([]any); ok {
			for _, a := range alts {
				if as, ok := a.(map[string]any); ok {
					limitsMissing(as, at, missing)
				}
			}
		}
	}
}
