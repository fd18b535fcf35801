package core

import (
	"context"
	"time"
)

// Upload is a file a person sent through a plugin's form (DESIGN.md §10 "Uploads"):
// received, checked and, for an image, re-encoded by the plugin host, kept in the core
// database, and served at /uploads/<id> to whoever holds the id. The id is random and
// unguessable (a UUIDv4, not the time-ordered v7 of other ids), since holding it is
// what lets one read the file.
type Upload struct {
	ID     string `db:"id" json:"id"`
	Plugin string `db:"plugin" json:"plugin"`
	// UploaderID is the person who sent it; empty for a form open to everyone.
	UploaderID string `db:"uploader_id" json:"-"`
	// ContentType is image/jpeg, image/png or application/pdf.
	ContentType string `db:"content_type" json:"content_type"`
	// FileName is the sender's file name made safe: no path, no quotes or controls,
	// an extension that matches ContentType.
	FileName  string    `db:"file_name" json:"file_name"`
	Size      int64     `db:"size" json:"size"`
	SHA256    string    `db:"sha256" json:"sha256"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	// Data is the file itself; empty in lists.
	Data []byte `db:"data" json:"-"`
}

// UploadService serves stored uploads.
type UploadService interface {
	// Upload returns the upload with its bytes; ENOTFOUND when there is none (any
	// more: erasing a person's account deletes what they uploaded).
	Upload(ctx context.Context, id string) (*Upload, error)
}

// UploadStore keeps uploads; the plugin host saves what it received through it.
type UploadStore interface {
	UploadService
	// SaveUploads stores the files of one form in one transaction, setting each
	// one's ID, SHA256, Size and CreatedAt.
	SaveUploads(ctx context.Context, uploads []*Upload) error
}
