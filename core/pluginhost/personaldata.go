package pluginhost

import (
	"context"
	"errors"

	"github.com/kvarter/kvarter/core"
	"github.com/kvarter/kvarter/sdk/hostside"
)

// ExportUser gathers every enabled plugin's section of a person's export, one
// plugin after another in the city config's order. A plugin that keeps no personal
// data is left out; one that is enabled but cannot answer fails the whole export,
// since a part missing without a word would tell the person wrong.
func (h *Host) ExportUser(ctx context.Context, userID string) ([]core.PluginExport, error) {
	var out []core.PluginExport
	for _, name := range h.order {
		p := h.plugins[name]
		pd, err := p.exportUser(ctx, userID)
		if errors.Is(err, hostside.ErrNoExport) || errors.Is(err, errPluginDisabled) {
			continue
		}
		if err != nil {
			var ce *core.Error
			if !errors.As(err, &ce) {
				h.logger.ErrorContext(ctx, "export user failed", "plugin", name, "err", err)
			}
			return nil, core.Errorf(core.EUNAVAILABLE,
				"Part of your data is kept by %s, which cannot answer just now. Try again in a few minutes.", name)
		}
		out = append(out, core.PluginExport{Plugin: name, Data: pd.Data, Fields: pd.Fields})
	}
	return out, nil
}

// errPluginDisabled is exportUser's answer for a plugin the city does not run.
var errPluginDisabled = errors.New("plugin disabled")

// exportUser asks one plugin, counted among the requests in flight so that a stop
// waits for it.
func (p *plugin) exportUser(ctx context.Context, userID string) (*hostside.PersonalData, error) {
	p.mu.Lock()
	if !p.enabled && p.state == core.PluginStopped {
		p.mu.Unlock()
		return nil, errPluginDisabled
	}
	if p.proc == nil || (p.state != core.PluginActive && p.state != core.PluginDegraded) {
		state := p.state
		p.mu.Unlock()
		return nil, unavailable(p.spec.Name, state)
	}
	proc := p.proc
	p.inflight.Add(1)
	p.mu.Unlock()
	defer p.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, p.h.cfg.RequestTimeout)
	defer cancel()
	return proc.ExportUser(ctx, userID)
}

// DataUses lists what every enabled plugin declares it keeps, in the city config's
// order, each text in lang where the plugin has it. A plugin that is down keeps its
// last manifest here: what it stores does not change while it restarts.
func (h *Host) DataUses(lang string) []core.PluginDataUse {
	var out []core.PluginDataUse
	for _, name := range h.order {
		p := h.plugins[name]
		p.mu.Lock()
		man, enabled := p.manifest, p.enabled
		p.mu.Unlock()
		if man == nil || !enabled {
			continue
		}
		title := name
		if len(man.UI.Nav) > 0 {
			if l, _ := h.pickLabel(man.UI.Nav[0].Labels, lang); l != "" {
				title = l
			}
		}
		for _, d := range man.DataUses {
			what, tag := h.pickLabel(d.What, lang)
			why, _ := h.pickLabel(d.Why, lang)
			kept, _ := h.pickLabel(d.Kept, lang)
			out = append(out, core.PluginDataUse{Name: name, Plugin: title, ID: d.ID, What: what, Why: why, Kept: kept, Lang: tag})
		}
	}
	return out
}
