package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/kvarter/kvarter/core"
)

// UploadStore keeps the files the plugin host receives for plugins (DESIGN.md §10).
type UploadStore struct{ DB *DB }

var _ core.UploadStore = (*UploadStore)(nil)

// uploadColumns are an upload's metadata, without its bytes.
const uploadColumns = `id, plugin, COALESCE(uploader_id, '') AS uploader_id, content_type, file_name, size, sha256, created_at`

// SaveUploads stores the files of one form in one transaction, each under a new
// random id, with its size and checksum.
func (s *UploadStore) SaveUploads(ctx context.Context, uploads []*core.Upload) error {
	now := s.DB.now()
	return s.DB.tx(ctx, func(tx *sqlx.Tx) error {
		for _, u := range uploads {
			sum := sha256.Sum256(u.Data)
			u.ID = uuid.NewString() // v4: 122 random bits, since the id is what grants reading
			u.SHA256, u.Size, u.CreatedAt = hex.EncodeToString(sum[:]), int64(len(u.Data)), now
			var uploader *string
			if u.UploaderID != "" {
				uploader = &u.UploaderID
			}
			if _, err := exec(ctx, tx, `INSERT INTO uploads (id, plugin, uploader_id, content_type, file_name, size, sha256, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				u.ID, u.Plugin, uploader, u.ContentType, u.FileName, u.Size, u.SHA256, u.Data, u.CreatedAt); err != nil {
				return fmt.Errorf("save upload for %s: %w", u.Plugin, err)
			}
		}
		return nil
	})
}

// Upload returns one upload with its bytes.
func (s *UploadStore) Upload(ctx context.Context, id string) (*core.Upload, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, core.Errorf(core.ENOTFOUND, "The file was not found.")
	}
	var u core.Upload
	if err := get(ctx, s.DB.db, &u, `SELECT `+uploadColumns+`, data FROM uploads WHERE id = ?`, id); err != nil {
		return nil, notFound(fmt.Errorf("upload %s: %w", id, err), "The file")
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// uploadsOf lists what userID uploaded, without the bytes, for the GDPR export.
func uploadsOf(ctx context.Context, q sqlx.ExtContext, userID string) ([]core.Upload, error) {
	out := []core.Upload{}
	if err := selectAll(ctx, q, &out, `SELECT `+uploadColumns+` FROM uploads WHERE uploader_id = ? ORDER BY created_at, id`, userID); err != nil {
		return nil, fmt.Errorf("export uploads: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = out[i].CreatedAt.UTC()
	}
	return out, nil
}
