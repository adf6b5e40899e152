package sqlite

import (
	"context"
	"fmt"

	"github.com/jack-paas/jack"
)

// SetDomains replaces the custom domains of an environment, normalized and
// without repeats. ENOTFOUND if the environment is gone, ECONFLICT naming
// the environment that already answers to one of them.
func (db *DB) SetDomains(ctx context.Context, envID int64, domains []string) error {
	domains = normalizeDomains(domains)
	for _, d := range domains {
		if err := jack.ValidateDomain(d); err != nil {
			return err
		}
	}
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, envID); err != nil {
			return err
		}
		if err := checkDomainsFree(ctx, tx, envID, domains); err != nil {
			return err
		}
		return replaceDomains(ctx, tx, envID, domains)
	})
}

// SwapDomains exchanges the custom domains of two environments in one
// transaction: there is no moment when a domain belongs to both or to
// neither. ENOTFOUND if either is gone.
func (db *DB) SwapDomains(ctx context.Context, envA, envB int64) error {
	if envA == envB {
		return jack.Errorf(jack.EINVALID, "an environment can't swap domains with itself; name two environments")
	}
	return db.write(ctx, func(tx *tx) error {
		a, err := findEnvByID(ctx, tx, envA)
		if err != nil {
			return err
		}
		b, err := findEnvByID(ctx, tx, envB)
		if err != nil {
			return err
		}
		// Clear both first: the domains table's primary key holds each
		// domain once.
		if err := replaceDomains(ctx, tx, a.ID, nil); err != nil {
			return err
		}
		if err := replaceDomains(ctx, tx, b.ID, a.Domains); err != nil {
			return err
		}
		return replaceDomains(ctx, tx, a.ID, b.Domains)
	})
}

// SetEdge saves an environment's edge settings. ENOTFOUND if it is gone.
func (db *DB) SetEdge(ctx context.Context, envID int64, edge jack.EdgeSettings) error {
	if err := edge.Validate(); err != nil {
		return err
	}
	data, err := encodeJSON(edge)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, envID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE environments SET edge = ? WHERE id = ?`, data, envID); err != nil {
			return fmt.Errorf("update edge settings of environment %d: %w", envID, err)
		}
		return nil
	})
}
