// helm-render renders a Helm chart the way `helm template` does, for tests on machines where
// helm itself cannot be installed (it is in no Debian or npm registry reachable here). It uses
// the same engine as Helm: Go's text/template with the sprig function library, plus Helm's own
// functions (include, tpl, required, toYaml, fromYaml, toJson) and built-in objects (.Values,
// .Release, .Chart, .Template, .Capabilities).
//
// Usage: helm-render <chart-dir> <release-name> <namespace> [values.yaml ...]
// Prints every rendered template as `---\n# Source: <chart>/templates/<file>\n<yaml>`, and
// exits 1 with the template error (e.g. from `required` or `fail`) on stderr.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

func readYAML(path string) map[string]interface{} {
	raw, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(raw, &out); err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	return out
}

// mergeValues overlays src on dst the way Helm coalesces values files: maps merge, the rest is replaced.
func mergeValues(dst, src map[string]interface{}) map[string]interface{} {
	for key, value := range src {
		if sub, ok := value.(map[string]interface{}); ok {
			if existing, ok := dst[key].(map[string]interface{}); ok {
				dst[key] = mergeValues(existing, sub)
				continue
			}
		}
		dst[key] = value
	}
	return dst
}

func toYAML(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 4 {
		fail(fmt.Errorf("usage: helm-render <chart-dir> <release-name> <namespace> [values.yaml ...]"))
	}
	chartDir, release, namespace := os.Args[1], os.Args[2], os.Args[3]
	chart := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	values := readYAML(filepath.Join(chartDir, "values.yaml"))
	for _, extra := range os.Args[4:] {
		values = mergeValues(values, readYAML(extra))
	}
	chartName := fmt.Sprint(chart["name"])
	top := map[string]interface{}{
		"Values": values,
		"Chart": map[string]interface{}{
			"Name": chart["name"], "Version": chart["version"], "AppVersion": chart["appVersion"], "Description": chart["description"],
		},
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.35.0", "Major": "1", "Minor": "35"},
		},
	}

	root := template.New("chart").Option("missingkey=zero")
	funcs := sprig.TxtFuncMap()
	// Helm removes these: a chart must not read the renderer's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["toJson"] = sprig.TxtFuncMap()["toJson"]
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &out); err != nil {
			out["Error"] = err.Error()
		}
		return out
	}
	funcs["required"] = func(message string, value interface{}) (interface{}, error) {
		if value == nil || value == "" {
			return nil, fmt.Errorf("%s", message)
		}
		return value, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs)

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		fail(err)
	}
	sort.Strings(files)
	var rendered []string
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			fail(err)
		}
		name := chartName + "/templates/" + filepath.Base(file)
		if _, err := root.New(name).Parse(string(raw)); err != nil {
			fail(err)
		}
		base := filepath.Base(file)
		if !strings.HasPrefix(base, "_") && base != "NOTES.txt" {
			rendered = append(rendered, name)
		}
	}
	var out strings.Builder
	for _, name := range rendered {
		data := map[string]interface{}{}
		for k, v := range top {
			data[k] = v
		}
		data["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			fail(err)
		}
		body := strings.TrimSpace(buf.String())
		if body == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, body)
	}
	fmt.Print(out.String())
}
