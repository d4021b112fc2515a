-- +goose Up
-- Suspense (customer refunds payable), cash over/short and the drawer float
-- join the chart of accounts.
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check CHECK (kind IN ('cash_drawer','provider_clearing','bank','groupbuy_escrow',
    'supplier_payable','maker_payable','provider_fees','fund_earmark','project','contributions','fund_deficit',
    'customer_refunds_payable','cash_over_short','cash_float'));

-- +goose Down
SELECT 1;
