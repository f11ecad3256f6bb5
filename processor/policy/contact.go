package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arrears/arrears/processor/event"
	"github.com/arrears/arrears/processor/strictyaml"
)

// defaultQuietChannels are the channels quiet hours apply to when the
// policy does not list them: the ones that reach a phone at once.
var defaultQuietChannels = []event.Channel{event.SMS, event.Push, event.Email}

func (p *parser) contact(n *yaml.Node) ContactRules {
	var c ContactRules
	for _, e := range p.mapping(n, "contact", []string{"quiet_hours", "holidays", "closed_weekdays", "cap"}) {
		field := strictyaml.Join("contact", e.Key)
		switch e.Key {
		case "quiet_hours":
			p.quietHours(e.Value, field, &c)
		case "holidays":
			for i, h := range p.sequence(e.Value, field) {
				s, ok := p.str(h, strictyaml.Index(field, i))
				if !ok {
					continue
				}
				d, err := event.ParseDate(s)
				if err != nil {
					p.Errorf(h, strictyaml.Index(field, i), "holiday must be YYYY-MM-DD: %v", err)
					continue
				}
				c.Holidays = append(c.Holidays, d)
			}
		case "closed_weekdays":
			c.ClosedWeekdays = map[event.Channel][]time.Weekday{}
			for _, cw := range p.mapping(e.Value, field, nil) {
				sub := strictyaml.Join(field, cw.Key)
				ch, ok := p.channel(cw.KeyNode, sub)
				if !ok {
					continue
				}
				var days []time.Weekday
				for i, d := range p.sequence(cw.Value, sub) {
					s, ok := p.str(d, strictyaml.Index(sub, i))
					if !ok {
						continue
					}
					wd, ok := parseWeekday(s)
					if !ok {
						p.Errorf(d, strictyaml.Index(sub, i), "unknown weekday %q (want monday ... sunday)", s)
						continue
					}
					days = append(days, wd)
				}
				if distinctWeekdays(days) >= 7 {
					p.Errorf(cw.Value, sub, "closes every day of the week: %s could never be used", ch)
					continue
				}
				c.ClosedWeekdays[ch] = days
			}
		case "cap":
			for _, ce := range p.mapping(e.Value, field, []string{"max", "days"}) {
				switch ce.Key {
				case "max":
					c.Cap.Max, _ = p.integer(ce.Value, strictyaml.Join(field, "max"), 1, 1000)
				case "days":
					c.Cap.Days, _ = p.integer(ce.Value, strictyaml.Join(field, "days"), 1, 366)
				}
			}
			if (c.Cap.Max == 0) != (c.Cap.Days == 0) {
				p.Errorf(e.Value, field, "needs both max and days")
				c.Cap = Cap{}
			}
		}
	}
	return c
}

func (p *parser) quietHours(n *yaml.Node, field string, c *ContactRules) {
	n = strictyaml.Deref(n)
	var spec *yaml.Node
	chans := defaultQuietChannels
	if n != nil && n.Kind == yaml.MappingNode {
		for _, e := range p.mapping(n, field, []string{"window", "channels"}) {
			switch e.Key {
			case "window":
				spec = e.Value
			case "channels":
				chans = p.channels(e.Value, strictyaml.Join(field, "channels"))
			}
		}
		if spec == nil {
			p.Errorf(n, strictyaml.Join(field, "window"), "is required")
			return
		}
	} else {
		spec = n
	}
	s, ok := p.str(spec, field)
	if !ok {
		return
	}
	w, err := ParseWindow(s)
	if err != nil {
		p.Errorf(spec, field, "%v", err)
		return
	}
	c.QuietHours, c.QuietChannels = &w, chans
}

// ParseWindow reads a daily window "HH:MM-HH:MM" (24-hour clock); the end
// may be before the start to wrap midnight.
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Window{}, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(a)
	if err != nil {
		return Window{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	end, err := parseClock(b)
	if err != nil {
		return Window{}, fmt.Errorf("quiet hours %q: %w", s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("quiet hours %q: start equals end", s)
	}
	return Window{Start: start, End: end}, nil
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || len(h) == 0 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day", s)
	}
	return hh*60 + mm, nil
}

// String formats the window as HH:MM-HH:MM.
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

// contains reports whether the minute of day m is inside the window.
func (w Window) contains(m int) bool {
	if w.Start < w.End {
		return m >= w.Start && m < w.End
	}
	return m >= w.Start || m < w.End
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if wd, ok := weekdays[s]; ok {
		return wd, true
	}
	if len(s) == 3 {
		for name, wd := range weekdays {
			if name[:3] == s {
				return wd, true
			}
		}
	}
	return 0, false
}

func distinctWeekdays(ds []time.Weekday) int {
	var seen [7]bool
	n := 0
	for _, d := range ds {
		if d >= 0 && d < 7 && !seen[d] {
			seen[d] = true
			n++
		}
	}
	return n
}

// NextAllowed returns the earliest instant at or after t when a contact on
// channel ch is allowed by the quiet hours and the business calendar, in
// time zone loc (nil: UTC). The contact cap is the caller's concern (it
// needs the contact history). The result is t itself when t is allowed.
func (c *ContactRules) NextAllowed(t time.Time, ch event.Channel, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	quiet := c.QuietHours != nil && slices.Contains(c.QuietChannels, ch)
	// A policy that passed Load leaves at least one weekday open per channel
	// and has finitely many holidays, so this ends well within the bound.
	for i := 0; i < 3*366; i++ {
		y, m, d := lt.Date()
		if c.closedOn(event.DateOf(lt), lt.Weekday(), ch) {
			lt = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
			continue
		}
		if quiet {
			min := lt.Hour()*60 + lt.Minute()
			if c.QuietHours.contains(min) {
				w := c.QuietHours
				if w.Start > w.End && min >= w.Start {
					lt = time.Date(y, m, d+1, w.End/60, w.End%60, 0, 0, loc)
				} else {
					lt = time.Date(y, m, d, w.End/60, w.End%60, 0, 0, loc)
				}
				continue
			}
		}
		if lt.Equal(t) {
			return t
		}
		return lt
	}
	return t
}

func (c *ContactRules) closedOn(d event.Date, wd time.Weekday, ch event.Channel) bool {
	return slices.Contains(c.Holidays, d) || slices.Contains(c.ClosedWeekdays[ch], wd)
}
