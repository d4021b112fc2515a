package payment

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/jmoiron/sqlx"

	"shelin/internal/apperr"
)

// StaticProvider is the community's fixed 收款码: a QR image the admin
// uploads once. The tablet shows it with the amount and the order number, a
// volunteer confirms the money arrived, and the treasurer matches it against
// the statement at day close. Nothing calls back.
type StaticProvider struct{ noNotifications }

func (StaticProvider) Name() string   { return Static }
func (StaticProvider) Method() string { return "qr" }

// Create checks that a 收款码 was uploaded; the payload stays empty because
// the tablet shows the uploaded image.
func (StaticProvider) Create(ctx context.Context, tx *sqlx.Tx, req CreateRequest) (Created, error) {
	var ok bool
	if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM static_qr_images WHERE community_id=$1)`, req.CommunityID); err != nil {
		return Created{}, err
	}
	if !ok {
		return Created{}, apperr.Conflictf("no fixed 收款码 has been uploaded for this community yet; an admin uploads it under payment settings")
	}
	return Created{}, nil
}

// Query: nobody can ask a fixed 收款码 whether it was paid.
func (StaticProvider) Query(context.Context, string) (QueryResult, error) {
	return QueryResult{Status: StatusPending}, nil
}

func (StaticProvider) Close(context.Context, string) error { return nil }

// Refund of a static-QR payment is handed back by the volunteer (a transfer
// or cash); it is recorded as done.
func (StaticProvider) Refund(context.Context, RefundRequest) (RefundResult, error) {
	return RefundResult{Status: StatusSucceeded, ProviderRef: "manual"}, nil
}

// SaveStaticImage stores (or replaces) the community's 收款码.
func SaveStaticImage(ctx context.Context, tx *sqlx.Tx, communityID, contentType string, image []byte, uploadedBy string) error {
	switch {
	case len(image) == 0:
		return apperr.Field("image", "the image is empty")
	case len(image) > 2_000_000:
		return apperr.Field("image", "the image is larger than 2 MB")
	}
	detected := http.DetectContentType(image)
	if detected != "image/png" && detected != "image/jpeg" {
		return apperr.Field("image", "the 收款码 must be a PNG or JPEG image")
	}
	var by any
	if uploadedBy != "" {
		by = uploadedBy
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO static_qr_images (community_id, content_type, image, uploaded_by)
		VALUES ($1,$2,$3,$4)
		ON CONFLICT (community_id) DO UPDATE SET content_type=EXCLUDED.content_type, image=EXCLUDED.image,
			uploaded_by=EXCLUDED.uploaded_by, uploaded_at=now()`, communityID, detected, image, by)
	return err
}

// StaticImage returns the community's 收款码 and its content type.
func StaticImage(ctx context.Context, q sqlx.QueryerContext, communityID string) (string, []byte, error) {
	var row struct {
		ContentType string `db:"content_type"`
		Image       []byte `db:"image"`
	}
	err := sqlx.GetContext(ctx, q, &row, `SELECT content_type, image FROM static_qr_images WHERE community_id=$1`, communityID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, apperr.NotFoundf("no fixed 收款码 has been uploaded for this community")
	}
	if err != nil {
		return "", nil, err
	}
	return row.ContentType, row.Image, nil
}
