-- Images are served by content hash alone.
-- +goose Up
CREATE INDEX product_images_sha256 ON product_images (sha256);

-- +goose Down
SELECT 1;
