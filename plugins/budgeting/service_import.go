package budgeting

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/sdk"
)

// ImportSummary says what an import created.
type ImportSummary struct {
	Projects int `json:"projects"`
	Ballots  int `json:"ballots"`
	// ProjectIDs maps the file's project IDs to the proposals created for them.
	ProjectIDs map[string]string `json:"project_ids"`
}

// Import loads a Pabulib file into an empty simulation cycle: its projects become
// feasible proposals, its votes ballots marked imported, its budget the cycle's, and
// the cycle moves to results so it can be tallied. Real cycles never take imports, so
// an import can never stand in for votes.
func (s *Service) Import(ctx context.Context, pr sdk.Principal, cycleID string, data []byte) (*ImportSummary, error) {
	c, err := findCycle(ctx, s.db, cycleID)
	if err != nil {
		return nil, err
	}
	if err := s.can(ctx, pr, PermCycleManage, c.nbh()); err != nil {
		return nil, err
	}
	if !c.Simulation {
		return nil, sdk.Errorf(sdk.CodeConflict, "only simulation cycles take imported ballots")
	}
	if c.Phase != PhaseIdeas {
		return nil, sdk.Errorf(sdk.CodeConflict, "import into a new cycle; this one is in %s", c.Phase)
	}
	inst, err := pabulib.Parse(bytes.NewReader(data))
	if err != nil {
		var pe *pabulib.ParseError
		if errors.As(err, &pe) {
			return nil, &sdk.Error{Code: sdk.CodeInvalid, Message: "malformed .pb file: " + pe.Error(),
				Fields: map[string]string{"file": pe.Msg, "line": strconv.Itoa(pe.Line)}}
		}
		return nil, sdk.InvalidField("file", err.Error())
	}
	want := c.Ballot.Type
	got := inst.VoteType
	if got == pabulib.VoteChoose1 {
		got = pabulib.VoteApproval
	}
	if got != want {
		return nil, sdk.InvalidField("file", fmt.Sprintf("the file has %s votes; the cycle takes %s ballots", inst.VoteType, want))
	}
	f := minorPerMajor(c.Currency)
	now := s.now()
	sum := &ImportSummary{ProjectIDs: map[string]string{}}
	err = inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if n, err := countProposals(ctx, tx, c.ID); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return sdk.Errorf(sdk.CodeConflict, "the cycle already has proposals")
		}
		if err := setCycleBudget(ctx, tx, c.ID, inst.Budget*f, now); err != nil {
			return err
		}
		for _, p := range inst.Projects {
			id := newID()
			title := p.Name
			if title == "" {
				title = "Project " + p.ID
			}
			prop := &Proposal{ID: id, CycleID: c.ID, Title: title, Cost: p.Cost * f, FinalCost: p.Cost * f,
				Status: StatusFeasible, CreatedAt: now, UpdatedAt: now, Description: "Imported project " + p.ID}
			if err := insertProposal(ctx, tx, prop); err != nil {
				return err
			}
			sum.ProjectIDs[p.ID] = id
		}
		stmt, err := tx.PreparexContext(ctx, tx.Rebind(`INSERT INTO ballots (id, cycle_id, paper, imported, token_hash, content) VALUES (?, ?, ?, ?, NULL, ?)`))
		if err != nil {
			return fmt.Errorf("prepare ballots: %w", err)
		}
		defer stmt.Close()
		for i, v := range inst.Votes {
			var b Ballot
			for j, pid := range v.Projects {
				id, ok := sum.ProjectIDs[pid]
				if !ok {
					return sdk.InvalidField("file", fmt.Sprintf("vote %d names unknown project %q", i+1, pid))
				}
				if want == BallotCumulative {
					if b.Points == nil {
						b.Points = map[string]int64{}
					}
					if j < len(v.Points) {
						b.Points[id] += v.Points[j]
					}
				} else {
					b.Projects = append(b.Projects, id)
				}
			}
			if want == BallotApproval {
				sort.Strings(b.Projects)
			}
			content, _ := json.Marshal(b)
			if _, err := stmt.ExecContext(ctx, uuid.NewString(), c.ID, false, true, string(content)); err != nil {
				return fmt.Errorf("insert ballot: %w", err)
			}
		}
		sum.Projects, sum.Ballots = len(inst.Projects), len(inst.Votes)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Budget = inst.Budget * f
	if err := s.move(ctx, c, PhaseResults); err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.cycle.import", c.nbh(), c.ID, map[string]any{"projects": sum.Projects, "ballots": sum.Ballots})
	return sum, nil
}
