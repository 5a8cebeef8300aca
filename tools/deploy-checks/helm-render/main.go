// helm-render renders a Helm chart's templates offline, the way `helm template` does, for a machine
// without a helm binary. It is built from Debian's Go packages (GOPATH mode, /usr/share/gocode) by
// tools/deploy-checks/helm-render/helm-template.mjs, which the deploy checks run.
//
// What it does as Helm does (Helm 3's pkg/engine, pkg/chartutil, pkg/releaseutil and pkg/action):
//   - loads Chart.yaml, values.yaml, values.schema.json, templates/** and the other files as
//     .Files, minus what .helmignore excludes (and templates/.* as Helm's defaults do);
//   - user values: -f/--values files deep-merged in order, then --set / --set-string, coalesced
//     over values.yaml (a null removes a default), validated against values.schema.json with
//     gojsonschema (the validator Helm 3 uses); YAML is read through JSON (ghodss/yaml, which
//     sigs.k8s.io/yaml forked), so numbers from YAML are float64 as in Helm;
//   - one text/template set for all templates, parsed deepest path first then in reverse name
//     order, with sprig's TxtFuncMap (minus env and expandenv) and Helm's functions: include,
//     tpl, required, fail, toYaml, mustToYaml, toYamlPretty, fromYaml, fromYamlArray, toJson,
//     mustToJson, fromJson, fromJsonArray, toToml, lookup (no cluster: an empty map, as in
//     `helm template`) and getHostByName (empty, as without --enable-dns);
//   - missingkey=zero with "<no value>" removed from the output, or missingkey=error with
//     --strict (as `helm lint --strict`);
//   - .Values, .Release (Name, Namespace, Revision 1, IsInstall, IsUpgrade, Service "Helm"),
//     .Chart (Chart.yaml's fields), .Capabilities (KubeVersion, APIVersions.Has, HelmVersion),
//     .Files (Get, GetBytes, Glob with gobwas/glob, AsConfig, AsSecrets, Lines) and .Template
//     (Name, BasePath);
//   - the chart's kubeVersion constraint against the target Kubernetes version;
//   - partials (_*) are not rendered; NOTES.txt is rendered (so its errors count) but not
//     printed; each file is split into documents at `---` lines with Helm's own separator rule,
//     empty documents are dropped, every document's head must parse as YAML, and the documents
//     are printed in Helm's install order of kinds, each after a `# Source:` comment.
//
// Where it differs from Helm (keep these in mind when a result looks odd):
//   - charts/ subcharts, dependencies, library charts, globals, import-values and values
//     templates are not supported: a chart with a charts/ directory or dependencies is refused;
//   - --set is a subset of Helm's strvals: a.b.c, a[0].b, {x,y} lists, \, and \. escapes,
//     typed values (true/false, null, integers as int64, the rest strings); no --set-file,
//     --set-json or --set-literal;
//   - .Capabilities.APIVersions is a fixed list of built-in group/versions (plus --api-versions);
//     Has("group/version/Kind") is true for any kind of a listed group/version, Helm's list is
//     exact. The default Kubernetes version is v1.32.0 (--kube-version to change);
//   - the documents are printed in Helm's kind order; within a kind, by file name and then the
//     order in the file, which need not be the order `helm template` prints them in;
//   - hooks (helm.sh/hook) get no special treatment: `helm template` prints them after the other
//     documents, this prints them in kind order with the rest;
//   - the libraries are Debian bookworm's: Go 1.19's text/template (Helm built with Go 1.22+ also
//     takes `range` over an integer), sprig 3.2.3 (recent Helm 3 releases ship 3.3.0, whose few
//     additions are missing), ghodss/yaml over yaml.v2 for toYaml and for reading YAML (Helm uses
//     sigs.k8s.io/yaml, ghodss/yaml's fork, with the same output); toYamlPretty is toYaml;
//   - no --post-renderer, --output-dir, --validate (a cluster), --show-only globs or
//     --include-crds handling; --show-only takes exact template paths.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
	"github.com/Masterminds/sprig/v3"
	"github.com/ghodss/yaml"
	"github.com/gobwas/glob"
	"github.com/xeipuuv/gojsonschema"
)

// ── chart ────────────────────────────────────────────────────────────────────────────────────

// Metadata mirrors Helm's chart.Metadata: .Chart in templates is this struct, so a misspelt
// field (.Chart.Nmae) is an error as in Helm, not an empty string.
type Metadata struct {
	Name         string            `json:"name,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Maintainers  []*Maintainer     `json:"maintainers,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Condition    string            `json:"condition,omitempty"`
	Tags         string            `json:"tags,omitempty"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Dependencies []interface{}     `json:"dependencies,omitempty"`
	Type         string            `json:"type,omitempty"`
}

// Maintainer mirrors Helm's chart.Maintainer.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

type chart struct {
	dir       string
	meta      *Metadata
	values    map[string]interface{}
	schema    []byte
	templates map[string]string // "templates/x.yaml" → text
	files     files             // everything else, as .Files
}

var releaseNameRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func loadChart(dir string) (*chart, error) {
	c := &chart{dir: dir, templates: map[string]string{}, files: files{}}
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("%s is not a chart: %w", dir, err)
	}
	c.meta = &Metadata{}
	if err := yaml.Unmarshal(raw, c.meta); err != nil {
		return nil, fmt.Errorf("cannot load Chart.yaml: %w", err)
	}
	switch {
	case c.meta.APIVersion != "v2" && c.meta.APIVersion != "v1":
		return nil, fmt.Errorf("Chart.yaml: apiVersion %q is not v1 or v2", c.meta.APIVersion)
	case c.meta.Name == "":
		return nil, errors.New("Chart.yaml: name is required")
	case c.meta.Version == "":
		return nil, errors.New("Chart.yaml: version is required")
	case c.meta.Type == "library":
		return nil, errors.New("library charts are not rendered (helm template refuses them too)")
	case len(c.meta.Dependencies) > 0:
		return nil, errors.New("chart dependencies are not supported by this renderer")
	}
	if _, err := semver.StrictNewVersion(c.meta.Version); err != nil {
		return nil, fmt.Errorf("Chart.yaml: version %q is not SemVer 2: %w", c.meta.Version, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "charts")); err == nil && fi.IsDir() {
		return nil, errors.New("subcharts (charts/) are not supported by this renderer")
	}

	ignore, err := loadHelmignore(filepath.Join(dir, ".helmignore"))
	if err != nil {
		return nil, err
	}
	c.values = map[string]interface{}{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.ignored(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case rel == "Chart.yaml", rel == "Chart.lock", rel == "requirements.yaml", rel == "requirements.lock":
		case rel == "values.yaml":
			if err := yaml.Unmarshal(data, &c.values); err != nil {
				return fmt.Errorf("cannot load values.yaml: %w", err)
			}
			if c.values == nil {
				c.values = map[string]interface{}{}
			}
		case rel == "values.schema.json":
			c.schema = data
		case strings.HasPrefix(rel, "templates/"):
			c.templates[rel] = string(data)
		default:
			c.files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// helmignore: the subset of Helm's pkg/ignore this needs (gitignore-like: comments, negation
// with !, a trailing / for directories only, a leading / for the chart root, patterns without /
// matched against the base name; filepath.Match globs, no **).
type ignoreRule struct {
	pattern string
	negate  bool
	dirOnly bool
}
type ignoreRules []ignoreRule

func loadHelmignore(file string) (ignoreRules, error) {
	rules := ignoreRules{{pattern: "templates/.?*"}} // Helm's default rule
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return rules, nil
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimSuffix(line, "/")
		}
		r.pattern = strings.TrimPrefix(line, "/")
		if _, err := filepath.Match(r.pattern, "x"); err != nil {
			return nil, fmt.Errorf(".helmignore: bad pattern %q: %w", line, err)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func (rules ignoreRules) ignored(rel string, isDir bool) bool {
	out := false
	for _, r := range rules {
		if r.dirOnly && !isDir {
			continue
		}
		target := rel
		if !strings.Contains(r.pattern, "/") {
			target = path.Base(rel)
		}
		if ok, _ := filepath.Match(r.pattern, target); ok {
			out = !r.negate
		}
	}
	return out
}

// ── values ───────────────────────────────────────────────────────────────────────────────────

// mergeMaps deep-merges b over a (Helm's merge of several -f files).
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if om, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(om, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// coalesce fills dst (the user's values) with src (the chart's defaults) as Helm's
// CoalesceTables does: a user null deletes the key, tables merge, the user's scalars win.
func coalesce(dst, src map[string]interface{}, prefix string) map[string]interface{} {
	if dst == nil {
		dst = map[string]interface{}{}
	}
	for key, val := range src {
		full := prefix + key
		dv, ok := dst[key]
		switch {
		case ok && dv == nil:
			delete(dst, key)
		case !ok:
			dst[key] = deepCopy(val)
		case isTable(val):
			if isTable(dv) {
				coalesce(dv.(map[string]interface{}), val.(map[string]interface{}), full+".")
			} else {
				fmt.Fprintf(os.Stderr, "coalesce.go: warning: cannot overwrite table with non table for %s (%v)\n", full, val)
			}
		case isTable(dv) && val != nil:
			fmt.Fprintf(os.Stderr, "coalesce.go: warning: destination for %s is a table. Ignoring non-table value (%v)\n", full, val)
		}
	}
	return dst
}

func isTable(v interface{}) bool {
	_, ok := v.(map[string]interface{})
	return ok
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	default:
		return v
	}
}

// parseSet applies one --set / --set-string argument (a=b,c.d=e,f[0]=g,h={x,y}).
func parseSet(into map[string]interface{}, arg string, asString bool) error {
	for _, pair := range splitUnescaped(arg, ',', true) {
		if pair == "" {
			continue
		}
		eq := indexUnescaped(pair, '=')
		if eq < 0 {
			return fmt.Errorf("--set %q: key %q has no value", arg, pair)
		}
		key, raw := pair[:eq], pair[eq+1:]
		var val interface{}
		if !asString && strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			items := []interface{}{}
			for _, item := range splitUnescaped(raw[1:len(raw)-1], ',', false) {
				items = append(items, typedValue(unescape(item), false))
			}
			val = items
		} else {
			val = typedValue(unescape(raw), asString)
		}
		if err := setPath(into, splitUnescaped(key, '.', false), val); err != nil {
			return fmt.Errorf("--set %q: %w", arg, err)
		}
	}
	return nil
}

// splitUnescaped splits on sep outside backslash escapes (and, for the pair list, outside {}).
func splitUnescaped(s string, sep byte, braces bool) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case braces && s[i] == '{':
			depth++
		case braces && s[i] == '}':
			depth--
		case s[i] == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		} else if s[i] == c {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

var intRe = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`)

// typedValue types a --set value as Helm's strvals does.
func typedValue(s string, asString bool) interface{} {
	if asString {
		return s
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if intRe.MatchString(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

var indexRe = regexp.MustCompile(`^(.*?)\[([0-9]+)\]$`)

func setPath(m map[string]interface{}, keys []string, val interface{}) error {
	k := unescape(keys[0])
	if mm := indexRe.FindStringSubmatch(keys[0]); mm != nil {
		name := unescape(mm[1])
		idx, _ := strconv.Atoi(mm[2])
		list, _ := m[name].([]interface{})
		for len(list) <= idx {
			list = append(list, nil)
		}
		if len(keys) == 1 {
			list[idx] = val
		} else {
			child, ok := list[idx].(map[string]interface{})
			if !ok {
				child = map[string]interface{}{}
			}
			if err := setPath(child, keys[1:], val); err != nil {
				return err
			}
			list[idx] = child
		}
		m[name] = list
		return nil
	}
	if k == "" {
		return errors.New("empty key")
	}
	if len(keys) == 1 {
		m[k] = val
		return nil
	}
	child, ok := m[k].(map[string]interface{})
	if !ok {
		child = map[string]interface{}{}
		m[k] = child
	}
	return setPath(child, keys[1:], val)
}

func validateSchema(schema []byte, values map[string]interface{}, chartName string) error {
	if schema == nil {
		return nil
	}
	valuesJSON, err := json.Marshal(values)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(valuesJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	if result.Valid() {
		return nil
	}
	var sb strings.Builder
	for _, e := range result.Errors() {
		sb.WriteString(fmt.Sprintf("- %s\n", e))
	}
	return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s", chartName, sb.String())
}

// ── .Files ───────────────────────────────────────────────────────────────────────────────────

type files map[string][]byte

func (f files) GetBytes(name string) []byte { return f[name] }
func (f files) Get(name string) string      { return string(f[name]) }

func (f files) Glob(pattern string) files {
	g, err := glob.Compile(pattern, '/')
	if err != nil {
		g, _ = glob.Compile("**")
	}
	out := files{}
	for name, data := range f {
		if g.Match(name) {
			out[name] = data
		}
	}
	return out
}

func (f files) AsConfig() string {
	if len(f) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = string(v)
	}
	return toYAML(m)
}

func (f files) AsSecrets() string {
	if len(f) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = base64.StdEncoding.EncodeToString(v)
	}
	return toYAML(m)
}

func (f files) Lines(p string) []string {
	if f == nil || f[p] == nil {
		return []string{}
	}
	s := string(f[p])
	if s != "" && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return strings.Split(s, "\n")
}

// ── .Capabilities ────────────────────────────────────────────────────────────────────────────

// KubeVersion mirrors Helm's chartutil.KubeVersion.
type KubeVersion struct {
	Version string `json:"version"`
	Major   string `json:"major"`
	Minor   string `json:"minor"`
}

func (kv *KubeVersion) String() string     { return kv.Version }
func (kv *KubeVersion) GitVersion() string { return kv.Version }

// VersionSet mirrors Helm's chartutil.VersionSet.
type VersionSet []string

// Has reports whether an API version (group/version, or group/version/Kind) is available.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	// group/version/Kind (or v1/Kind): any kind of a listed group/version. Helm's list names
	// each kind, so it can also say no to a kind its group/version does not have.
	slashes := strings.Count(apiVersion, "/")
	gv := apiVersion
	if i := strings.LastIndex(apiVersion, "/"); i > 0 {
		gv = apiVersion[:i]
	}
	if slashes == 2 || (slashes == 1 && gv == "v1") {
		for _, x := range v {
			if x == gv {
				return true
			}
		}
	}
	return false
}

// HelmVersion mirrors the fields of Helm's version.BuildInfo.
type HelmVersion struct {
	Version      string `json:"version,omitempty"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitTreeState string `json:"git_tree_state,omitempty"`
	GoVersion    string `json:"go_version,omitempty"`
}

// Capabilities mirrors Helm's chartutil.Capabilities.
type Capabilities struct {
	APIVersions VersionSet
	KubeVersion KubeVersion
	HelmVersion HelmVersion
}

var builtinAPIVersions = []string{
	"v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1",
	"apps/v1", "authentication.k8s.io/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2",
	"batch/v1", "certificates.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1", "events.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1", "networking.k8s.io/v1", "node.k8s.io/v1", "policy/v1",
	"rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1",
}

func kubeVersion(s string) (KubeVersion, error) {
	v, err := semver.NewVersion(s)
	if err != nil {
		return KubeVersion{}, fmt.Errorf("--kube-version %q: %w", s, err)
	}
	return KubeVersion{
		Version: "v" + v.String(),
		Major:   strconv.FormatUint(v.Major(), 10),
		Minor:   strconv.FormatUint(v.Minor(), 10),
	}, nil
}

// ── functions ────────────────────────────────────────────────────────────────────────────────

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return "" // Helm swallows errors inside templates
	}
	return strings.TrimSuffix(string(data), "\n")
}

func mustToYAML(v interface{}) (string, error) {
	data, err := yaml.Marshal(v)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

func toYAMLPretty(v interface{}) string {
	// Helm's toYamlPretty indents sequences inside mappings; yaml.v2 (what is packaged here) does
	// not, so this is toYaml.
	return toYAML(v)
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func mustToJSON(v interface{}) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toTOML(v interface{}) string {
	b := bytes.NewBuffer(nil)
	if err := toml.NewEncoder(b).Encode(v); err != nil {
		return err.Error()
	}
	return b.String()
}

// ── engine ───────────────────────────────────────────────────────────────────────────────────

type renderable struct {
	tpl      string
	vals     map[string]interface{}
	basePath string
}

type engine struct {
	strict bool
}

const (
	warnStart        = "HELM_ERR_START"
	warnEnd          = "HELM_ERR_END"
	recursionMaxNums = 1000
)

var warnRe = regexp.MustCompile(warnStart + `(.*)` + warnEnd)

func warnWrap(s string) string { return warnStart + s + warnEnd }

func pathValue(vals map[string]interface{}, p string) (interface{}, error) {
	var cur interface{} = vals
	for _, k := range strings.Split(p, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("no value at %s", p)
		}
		if cur, ok = m[k]; !ok {
			return nil, fmt.Errorf("no value at %s", p)
		}
	}
	return cur, nil
}

func (e *engine) funcMap(t *template.Template, refs map[string]renderable) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	for k, v := range map[string]interface{}{
		"toToml":        toTOML,
		"toYaml":        toYAML,
		"mustToYaml":    mustToYAML,
		"toYamlPretty":  toYAMLPretty,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"mustToJson":    mustToJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		// No cluster: what `helm template` (without --dry-run=server) gets.
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		"getHostByName": func(string) string { return "" },
	} {
		f[k] = v
	}

	included := map[string]int{}
	f["include"] = func(name string, data interface{}) (string, error) {
		if included[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["tpl"] = func(text string, vals map[string]interface{}) (string, error) {
		basePath, err := pathValue(vals, "Template.BasePath")
		if err != nil {
			return "", fmt.Errorf("cannot retrieve Template.Basepath from values inside tpl function: %s: %w", text, err)
		}
		name, err := pathValue(vals, "Template.Name")
		if err != nil {
			return "", fmt.Errorf("cannot retrieve Template.Name from values inside tpl function: %s: %w", text, err)
		}
		n, _ := name.(string)
		bp, _ := basePath.(string)
		out, err := e.renderWithReferences(map[string]renderable{n: {tpl: text, vals: vals, basePath: bp}}, refs)
		if err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return out[n], nil
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warnWrap(warn))
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warnWrap(warn))
		}
		return val, nil
	}
	f["fail"] = func(msg string) (string, error) {
		return "", errors.New(warnWrap(msg))
	}
	return f
}

func (e *engine) renderWithReferences(tpls, refs map[string]renderable) (rendered map[string]string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rendering template failed: %v", r)
		}
	}()
	t := template.New("gotpl")
	if e.strict {
		t.Option("missingkey=error")
	} else {
		t.Option("missingkey=zero")
	}
	t.Funcs(e.funcMap(t, refs))

	keys := sortTemplates(tpls)
	for _, name := range keys {
		if _, err := t.New(name).Parse(tpls[name].tpl); err != nil {
			return nil, cleanupParseError(name, err)
		}
	}
	for _, name := range sortTemplates(refs) {
		if t.Lookup(name) == nil {
			if _, err := t.New(name).Parse(refs[name].tpl); err != nil {
				return nil, cleanupParseError(name, err)
			}
		}
	}

	rendered = map[string]string{}
	for _, name := range keys {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		vals := tpls[name].vals
		vals["Template"] = map[string]interface{}{"Name": name, "BasePath": tpls[name].basePath}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, vals); err != nil {
			return nil, cleanupExecError(name, err)
		}
		rendered[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return rendered, nil
}

// sortTemplates: deepest paths first, then reverse lexical order (Helm's parse order, which
// decides which of two same-named defines wins).
func sortTemplates(tpls map[string]renderable) []string {
	keys := make([]string, 0, len(tpls))
	for k := range tpls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		ca, cb := strings.Count(a, "/"), strings.Count(b, "/")
		if ca != cb {
			return ca > cb
		}
		return a > b
	})
	return keys
}

func cleanupParseError(name string, err error) error {
	tokens := strings.Split(err.Error(), ": ")
	if len(tokens) == 1 {
		return fmt.Errorf("parse error in (%s): %s", name, err)
	}
	return fmt.Errorf("parse error at (%s): %s", tokens[1], tokens[len(tokens)-1])
}

func cleanupExecError(name string, err error) error {
	var execErr template.ExecError
	if !errors.As(err, &execErr) {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return fmt.Errorf("execution error in (%s): %s", name, err)
	}
	if parts := warnRe.FindStringSubmatch(tokens[2]); len(parts) >= 2 {
		return fmt.Errorf("execution error at (%s): %s", tokens[1], parts[1])
	}
	return err
}

// ── manifests ────────────────────────────────────────────────────────────────────────────────

// Helm's releaseutil separator: `---` at the start of the text or after a newline.
var sepRe = regexp.MustCompile("(?:^|\\s*\n)---\\s*")

func splitManifests(text string) []string {
	var out []string
	for _, d := range sepRe.Split(strings.TrimSpace(text), -1) {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

type manifest struct {
	Source  string          `json:"source"`
	Kind    string          `json:"-"`
	Content string          `json:"-"`
	Object  json.RawMessage `json:"object"`
}

type simpleHead struct {
	Version  string `json:"apiVersion"`
	Kind     string `json:"kind,omitempty"`
	Metadata *struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata,omitempty"`
}

func collectManifests(rendered map[string]string, notesSuffix string) ([]manifest, error) {
	names := make([]string, 0, len(rendered))
	for n := range rendered {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []manifest
	for _, name := range names {
		if strings.HasSuffix(name, notesSuffix) || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		for _, doc := range splitManifests(rendered[name]) {
			var head simpleHead
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", name, err)
			}
			// As Helm writes it into the release manifest: with a final line break, which a
			// block scalar (|) at the end of the document keeps.
			obj, err := yaml.YAMLToJSON([]byte(doc + "\n"))
			if err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", name, err)
			}
			out = append(out, manifest{Source: name, Kind: head.Kind, Content: doc, Object: obj})
		}
	}
	rank := map[string]int{}
	for i, k := range installOrder {
		rank[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := rank[out[i].Kind]
		b, bok := rank[out[j].Kind]
		switch {
		case !aok && !bok:
			return out[i].Kind < out[j].Kind
		case !aok:
			return false
		case !bok:
			return true
		}
		return a < b
	})
	return out, nil
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

const usage = `usage: helm-render [NAME] CHART [flags]

Renders CHART's templates as 'helm template NAME CHART' does, without helm or a cluster.

  -n, --namespace NS       .Release.Namespace (default "default")
  -f, --values FILE        a values file, - for stdin (repeatable; later ones win)
      --set K=V            set values (repeatable): a.b=1,c[0]=x,d={x,y}
      --set-string K=V     set values as strings (repeatable)
      --kube-version V     .Capabilities.KubeVersion (default v1.32.0)
  -a, --api-versions GV    add to .Capabilities.APIVersions (repeatable)
      --is-upgrade         .Release.IsUpgrade true, IsInstall false
      --strict             fail on a reference to a missing value (as helm lint --strict)
  -s, --show-only PATH     only the documents of this template, e.g. templates/x.yaml (repeatable)
  -o, --output FORMAT      yaml (default: what helm template prints) or json: an array of
                           {"source", "object"}, each object decoded as the API server would
      --notes              print the rendered NOTES.txt instead of the manifests
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %s\n", strings.TrimRight(err.Error(), "\n"))
		os.Exit(1)
	}
}

func run(args []string) error {
	var (
		namespace   = "default"
		valueFiles  multiFlag
		sets        multiFlag
		setStrings  multiFlag
		kubeVer     = "v1.32.0"
		apiVersions multiFlag
		isUpgrade   bool
		strict      bool
		showOnly    multiFlag
		output      = "yaml"
		notes       bool
		positional  []string
	)
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, inline, hasInline := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		value := func() (string, error) {
			if hasInline {
				return inline, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch name {
		case "-h", "--help":
			fmt.Print(usage)
			os.Exit(0)
		case "-n", "--namespace":
			namespace, err = value()
		case "-f", "--values":
			v, err = value()
			valueFiles = append(valueFiles, v)
		case "--set":
			v, err = value()
			sets = append(sets, v)
		case "--set-string":
			v, err = value()
			setStrings = append(setStrings, v)
		case "--kube-version":
			kubeVer, err = value()
		case "-a", "--api-versions":
			v, err = value()
			apiVersions = append(apiVersions, v)
		case "--is-upgrade":
			isUpgrade = true
		case "--strict":
			strict = true
		case "-s", "--show-only":
			v, err = value()
			showOnly = append(showOnly, v)
		case "-o", "--output":
			output, err = value()
		case "--notes":
			notes = true
		default:
			return fmt.Errorf("unknown flag %s\n%s", a, usage)
		}
		if err != nil {
			return err
		}
	}
	releaseName, chartDir := "release-name", ""
	switch len(positional) {
	case 1:
		chartDir = positional[0]
	case 2:
		releaseName, chartDir = positional[0], positional[1]
	default:
		return fmt.Errorf("expected [NAME] CHART\n%s", usage)
	}
	if output != "yaml" && output != "json" {
		return fmt.Errorf("--output %q: yaml or json", output)
	}
	if len(releaseName) > 53 || !releaseNameRe.MatchString(releaseName) {
		return fmt.Errorf("release name %q: must be a DNS-1123 label of at most 53 characters", releaseName)
	}

	c, err := loadChart(chartDir)
	if err != nil {
		return err
	}
	kv, err := kubeVersion(kubeVer)
	if err != nil {
		return err
	}
	if c.meta.KubeVersion != "" {
		constraint, err := semver.NewConstraint(c.meta.KubeVersion)
		if err != nil {
			return fmt.Errorf("Chart.yaml: kubeVersion %q: %w", c.meta.KubeVersion, err)
		}
		if v, err := semver.NewVersion(kv.Version); err != nil || !constraint.Check(v) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.meta.KubeVersion, kv.Version)
		}
	}

	user := map[string]interface{}{}
	for _, file := range valueFiles {
		var data []byte
		if file == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(file)
		}
		if err != nil {
			return err
		}
		current := map[string]interface{}{}
		if err := yaml.Unmarshal(data, &current); err != nil {
			return fmt.Errorf("failed to parse %s: %w", file, err)
		}
		user = mergeMaps(user, current)
	}
	for _, s := range sets {
		if err := parseSet(user, s, false); err != nil {
			return fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, s := range setStrings {
		if err := parseSet(user, s, true); err != nil {
			return fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	values := coalesce(user, c.values, "")
	if err := validateSchema(c.schema, values, c.meta.Name); err != nil {
		return err
	}

	top := map[string]interface{}{
		"Chart": c.meta,
		"Capabilities": &Capabilities{
			APIVersions: append(VersionSet(builtinAPIVersions), apiVersions...),
			KubeVersion: kv,
			HelmVersion: HelmVersion{Version: "v3.17.0-offline"},
		},
		"Release": map[string]interface{}{
			"Name":      releaseName,
			"Namespace": namespace,
			"IsUpgrade": isUpgrade,
			"IsInstall": !isUpgrade,
			"Revision":  1,
			"Service":   "Helm",
		},
		"Files":  c.files,
		"Values": values,
	}
	tpls := map[string]renderable{}
	for name, text := range c.templates {
		tpls[path.Join(c.meta.Name, name)] = renderable{
			tpl: text, vals: top, basePath: path.Join(c.meta.Name, "templates"),
		}
	}
	e := &engine{strict: strict}
	rendered, err := e.renderWithReferences(tpls, tpls)
	if err != nil {
		return err
	}

	notesName := path.Join(c.meta.Name, "templates", "NOTES.txt")
	if notes {
		fmt.Print(rendered[notesName])
		return nil
	}
	manifests, err := collectManifests(rendered, "NOTES.txt")
	if err != nil {
		return err
	}
	if len(showOnly) > 0 {
		want := map[string]bool{}
		for _, s := range showOnly {
			want[path.Join(c.meta.Name, s)] = true
		}
		var kept []manifest
		for _, m := range manifests {
			if want[m.Source] {
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			return fmt.Errorf("could not find template %s in chart", strings.Join(showOnly, ", "))
		}
		manifests = kept
	}
	if output == "json" {
		// Documents with no object (only comments) are left out: installing ignores them too.
		objects := []manifest{}
		for _, m := range manifests {
			if string(m.Object) != "null" {
				objects = append(objects, m)
			}
		}
		data, err := json.Marshal(objects)
		if err != nil {
			return err
		}
		fmt.Println(string(data))
		return nil
	}
	var b strings.Builder
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Source, m.Content)
	}
	fmt.Print(b.String())
	return nil
}
