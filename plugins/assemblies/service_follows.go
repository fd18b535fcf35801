package assemblies

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// FollowState says whether the caller now follows a subject.
type FollowState struct {
	Subject   string `json:"subject" example:"assemblies.motion:0198f0a2-7c3e-7000-8000-000000000001"`
	Following bool   `json:"following"`
}

// FollowAssembly makes p follow an assembly's business (or stop): its motions tabled,
// its results, its meetings and minutes. Assemblies are public, so anyone signed in
// may follow one that exists.
func (s *Service) FollowAssembly(ctx context.Context, p sdk.Principal, assemblyID string, on bool) (FollowState, error) {
	if err := requireUser(p); err != nil {
		return FollowState{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return FollowState{}, err
	}
	return s.setFollow(ctx, p, assemblySubject(a.ID), on)
}

// FollowMotion makes p follow a motion (or stop): its result and the city's answer.
// Motions are public, so anyone signed in may follow one that exists.
func (s *Service) FollowMotion(ctx context.Context, p sdk.Principal, assemblyID, motionID string, on bool) (FollowState, error) {
	if err := requireUser(p); err != nil {
		return FollowState{}, err
	}
	if _, err := getMotion(ctx, s.db, assemblyID, motionID); err != nil {
		return FollowState{}, err
	}
	return s.setFollow(ctx, p, motionSubject(motionID), on)
}

func (s *Service) setFollow(ctx context.Context, p sdk.Principal, subject string, on bool) (FollowState, error) {
	err := s.db.InTx(ctx, func(tx *store.Tx) error { return tx.Follow(ctx, p.UserID, subject, on) })
	if err != nil {
		return FollowState{}, err
	}
	return FollowState{Subject: subject, Following: on}, nil
}
