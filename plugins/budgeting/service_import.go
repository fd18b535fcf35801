package budgeting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/kvarter/kvarter/plugins/budgeting/pabulib"
	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// ImportSummary says what an import created.
type ImportSummary struct {
	Projects int `json:"projects" doc:"Proposals created, feasible, one per project of the file."`
	Ballots  int `json:"ballots" doc:"Ballots imported."`
	// ProjectIDs maps the file's project IDs to the proposals created for them.
	ProjectIDs map[string]string `json:"project_ids"`
}

// Import loads a Pabulib file into an empty simulation cycle: its projects become
// feasible proposals, its votes ballots marked imported, its budget the cycle's, and
// the cycle moves to results so it can be tallied. Real cycles never take imports, so
// an import can never stand in for votes.
func (s *Service) Import(ctx context.Context, pr sdk.Principal, cycleID string, data []byte) (*ImportSummary, error) {
	c, err := s.cycleFor(ctx, pr, cycleID, PermCycleManage)
	if err != nil {
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
	sum := &ImportSummary{Projects: len(inst.Projects), Ballots: len(inst.Votes), ProjectIDs: map[string]string{}}
	props := make([]*Proposal, len(inst.Projects))
	for i, p := range inst.Projects {
		title := p.Name
		if title == "" {
			title = "Project " + p.ID
		}
		props[i] = &Proposal{ID: newID(), CycleID: c.ID, Title: title, Cost: p.Cost * f, FinalCost: p.Cost * f,
			Status: StatusFeasible, CreatedAt: now, UpdatedAt: now, Description: "Imported project " + p.ID}
		sum.ProjectIDs[p.ID] = props[i].ID
	}
	ballots, err := importedBallots(inst, want, sum.ProjectIDs)
	if err != nil {
		return nil, err
	}
	// One transaction: a cycle is either untouched or imported and in the results
	// phase.
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if n, err := countProposals(ctx, tx, c.ID); err != nil || n > 0 {
			if err != nil {
				return err
			}
			return sdk.Errorf(sdk.CodeConflict, "the cycle already has proposals")
		}
		if err := setCycleBudget(ctx, tx, c.ID, inst.Budget*f, now); err != nil {
			return err
		}
		for _, p := range props {
			if err := insertProposal(ctx, tx, p); err != nil {
				return err
			}
		}
		if err := insertImportedBallots(ctx, tx.Tx, c.ID, ballots); err != nil {
			return err
		}
		return s.moveTx(ctx, tx, c, PhaseResults)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, pr, "budgeting.cycle.import", c.nbh(), c.ID, map[string]any{"projects": sum.Projects, "ballots": sum.Ballots})
	return sum, nil
}

// importedBallots turns a file's votes into ballots on the proposals created for its
// projects (ids maps the file's project IDs to them), in the canonical form
// validateBallot gives cast ballots.
func importedBallots(inst *pabulib.Instance, ballotType string, ids map[string]string) ([]Ballot, error) {
	out := make([]Ballot, len(inst.Votes))
	for i, v := range inst.Votes {
		var b Ballot
		for j, pid := range v.Projects {
			id, ok := ids[pid]
			if !ok {
				return nil, sdk.InvalidField("file", fmt.Sprintf("vote %d names unknown project %q", i+1, pid))
			}
			if ballotType == BallotCumulative {
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
		if ballotType == BallotApproval {
			sort.Strings(b.Projects)
		}
		out[i] = b
	}
	return out, nil
}
