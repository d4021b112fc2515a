// Package identity owns communities, grids and micro-grids, users with their
// roles, sign-in sessions, login throttling and the audit log.
package identity

import (
	"time"
)

// Role is what a user may do. platform_admin spans all communities; the
// others belong to one community.
type Role string

const (
	PlatformAdmin Role = "platform_admin"
	Admin         Role = "admin"
	Treasurer     Role = "treasurer"
	Volunteer     Role = "volunteer"
	Leader        Role = "leader"
)

// Roles lists every role, platform first.
var Roles = []Role{PlatformAdmin, Admin, Treasurer, Volunteer, Leader}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Community is one residential community (社区), the unit of tenancy.
type Community struct {
	ID        string    `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	Slug      string    `db:"slug" json:"slug"`
	Timezone  string    `db:"timezone" json:"timezone"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Location returns the community's time zone (Asia/Shanghai if unknown).
func (c Community) Location() *time.Location {
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}

// User is a person who signs in.
type User struct {
	ID          string    `db:"id" json:"id"`
	CommunityID *string   `db:"community_id" json:"community_id"`
	Login       string    `db:"login" json:"login"`
	Role        Role      `db:"role" json:"role"`
	DisplayName string    `db:"display_name" json:"display_name"`
	Active      bool      `db:"active" json:"active"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// Community returns the user's community id, or "" for a platform admin.
func (u User) Community() string {
	if u.CommunityID == nil {
		return ""
	}
	return *u.CommunityID
}

// CanSee reports whether the user may see data of the given community.
func (u User) CanSee(communityID string) bool {
	return u.Role == PlatformAdmin || u.Community() == communityID
}

// Grid is one of the community's grids (网格).
type Grid struct {
	ID          string `db:"id" json:"id"`
	CommunityID string `db:"community_id" json:"community_id"`
	Name        string `db:"name" json:"name"`
}

// MicroGrid is a 邻里微网格 of 30–80 households led by a 邻长.
type MicroGrid struct {
	ID           string  `db:"id" json:"id"`
	CommunityID  string  `db:"community_id" json:"community_id"`
	GridID       string  `db:"grid_id" json:"grid_id"`
	Name         string  `db:"name" json:"name"`
	Households   int     `db:"households" json:"households"`
	LeaderUserID *string `db:"leader_user_id" json:"leader_user_id"`
}
