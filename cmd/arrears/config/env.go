package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvConfigFile names the config file when -config is not given.
const EnvConfigFile = "ARREARS_CONFIG"

// envPrefix starts every variable arrears reads.
const envPrefix = "ARREARS"

// ApplyEnv overrides fields from variables named ARREARS_ + the upper-cased
// YAML path joined by underscores, e.g. ARREARS_KAFKA_BROKERS=a:9092,b:9092,
// ARREARS_KAFKA_TOPICS_EVENTS=ar.events, ARREARS_REDIS_ADDRS=... Lists are
// comma separated; durations use Go syntax (1s, 250ms).
func ApplyEnv(cfg *Config, environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, envPrefix+"_") {
			env[k] = v
		}
	}
	return eachEnvField(reflect.ValueOf(cfg).Elem(), envPrefix, func(name string, fv reflect.Value) error {
		s, ok := env[name]
		if !ok {
			return nil
		}
		if err := setFromString(fv, s); err != nil {
			return fmt.Errorf("env %s: %w", name, err)
		}
		return nil
	})
}

// EnvNames lists every variable arrears reads: EnvConfigFile and one per
// config field, as ApplyEnv names them, and NAME_FILE for each secret.
func EnvNames() map[string]bool {
	names := map[string]bool{EnvConfigFile: true}
	var c Config
	_ = eachEnvField(reflect.ValueOf(&c).Elem(), envPrefix, func(name string, _ reflect.Value) error {
		names[name] = true
		return nil
	})
	for _, name := range SecretFileNames() {
		names[name] = true
	}
	return names
}

// eachEnvField calls fn with the variable name and the value of every leaf
// field of the struct v that has a YAML key.
func eachEnvField(v reflect.Value, prefix string, fn func(name string, fv reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		var err error
		if fv := v.Field(i); fv.Kind() == reflect.Struct {
			err = eachEnvField(fv, name, fn)
		} else {
			err = fn(name, fv)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

func setFromString(fv reflect.Value, s string) error {
	if fv.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(s)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, fv.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		fv.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		fv.SetFloat(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		fv.SetBool(b)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", fv.Type())
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		fv.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}
