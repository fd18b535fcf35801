package main

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/kvarter/kvarter/sdk"
	"github.com/kvarter/kvarter/sdk/store"
)

// PermPost lets a resident post notices in their neighbourhood.
const PermPost = "board.notice.post"

// Notice is a notice on a neighbourhood's board.
type Notice struct {
	ID       int64  `json:"id"`
	AuthorID string `json:"author_id" db:"author_id"`
	Text     string `json:"text"`
}

// NoticeInput is a new notice.
type NoticeInput struct {
	Text string `json:"text" max:"500" doc:"What the notice says" example:"Bike repair café on Saturday"`
}

// Service holds the board's rules; Storage its SQL.
type Service struct{ store *Storage }

// OpenService opens the plugin's store.
func OpenService(ctx context.Context, cfg sdk.StoreConfig) (*Service, error) {
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Service{store: &Storage{db: db}}, nil
}

// Post puts a notice by the caller on a neighbourhood's board.
func (s *Service) Post(ctx context.Context, caller sdk.Principal, nbh string, in NoticeInput) (Notice, error) {
	text := strings.TrimSpace(in.Text)
	if text == "" {
		return Notice{}, sdk.InvalidField("text", "must not be empty")
	}
	return s.store.Add(ctx, nbh, Notice{AuthorID: caller.UserID, Text: text})
}

// List is a page of a neighbourhood's notices, oldest first.
func (s *Service) List(ctx context.Context, nbh string, q sdk.ListQuery) (sdk.Page[Notice], error) {
	rows, err := s.store.List(ctx, nbh, q)
	if err != nil {
		return sdk.Page[Notice]{}, err
	}
	return sdk.NewPage(rows, q, func(n Notice) []any { return []any{n.ID} }), nil
}

// Storage is the board's SQL, one query for both databases.
type Storage struct{ db *store.DB }

// Add stores a notice and returns it with its ID.
func (s *Storage) Add(ctx context.Context, nbh string, n Notice) (Notice, error) {
	q := s.db.Rebind(`INSERT INTO notices (neighbourhood_id, author_id, text) VALUES (?, ?, ?) RETURNING id`)
	if err := s.db.GetContext(ctx, &n.ID, q, nbh, n.AuthorID, n.Text); err != nil {
		return Notice{}, fmt.Errorf("add notice: %w", err)
	}
	return n, nil
}

// List returns q.Fetch() notices of nbh after the cursor.
func (s *Storage) List(ctx context.Context, nbh string, q sdk.ListQuery) ([]Notice, error) {
	after, args, err := q.After("id")
	if err != nil {
		return nil, err
	}
	var out []Notice
	query := s.db.Rebind(`SELECT id, author_id, text FROM notices WHERE neighbourhood_id = ? AND ` + after + ` ORDER BY id LIMIT ?`)
	if err := s.db.SelectContext(ctx, &out, query, append(append([]any{nbh}, args...), q.Fetch())...); err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	return out, nil
}

//go:embed migrations
var migrations embed.FS

// Migrations are the board's schema, one folder per dialect.
func Migrations() fs.FS {
	sub, _ := fs.Sub(migrations, "migrations")
	return sub
}
