package assemblies

import (
	"context"

	"github.com/kvarter/kvarter/sdk"
)

// FollowAssembly makes p follow an assembly's business (or stop): its motions tabled,
// its results, its meetings and minutes. Assemblies are public, so anyone signed in
// may follow one that exists.
func (s *Service) FollowAssembly(ctx context.Context, p sdk.Principal, assemblyID string, on bool) (sdk.FollowState, error) {
	if err := requireUser(p); err != nil {
		return sdk.FollowState{}, err
	}
	a, err := s.Assembly(ctx, assemblyID)
	if err != nil {
		return sdk.FollowState{}, err
	}
	return s.db.Follow(ctx, p.UserID, assemblySubject(a.ID), on)
}

// FollowMotion makes p follow a motion (or stop): its result and the city's answer.
// Motions are public, so anyone signed in may follow one that exists.
func (s *Service) FollowMotion(ctx context.Context, p sdk.Principal, assemblyID, motionID string, on bool) (sdk.FollowState, error) {
	if err := requireUser(p); err != nil {
		return sdk.FollowState{}, err
	}
	if _, err := getMotion(ctx, s.db, assemblyID, motionID); err != nil {
		return sdk.FollowState{}, err
	}
	return s.db.Follow(ctx, p.UserID, motionSubject(motionID), on)
}
