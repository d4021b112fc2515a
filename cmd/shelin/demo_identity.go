package main

import (
	"fmt"

	"github.com/jmoiron/sqlx"

	"shelin/identity"
)

func init() { registerDemo(0, "community and people", seedIdentity) }

// seedIdentity creates the Wuhan Road community, its grids and micro-grids
// with their 邻长, and one user per role. All names are invented.
func seedIdentity(e *demoEnv) error {
	return e.inTx(func(tx *sqlx.Tx) error {
		com, err := e.ids.CreateCommunity(e.ctx, tx, identity.NewCommunity{Name: "武汉路社区", Slug: demoSlug, Timezone: "Asia/Shanghai"})
		if err != nil {
			return err
		}
		e.community = com
		people := []struct {
			login, name string
			role        identity.Role
			pin         string
		}{
			{"admin", "社区管理员 刘静", identity.Admin, ""},
			{"treasurer", "基金出纳 周敏", identity.Treasurer, ""},
			{"volunteer", "志愿者 王阿姨", identity.Volunteer, "1234"},
			{"volunteer2", "志愿者 陈师傅", identity.Volunteer, "5678"},
			{"leader", "邻长 李大姐", identity.Leader, ""},
		}
		for _, p := range people {
			u, err := e.ids.CreateUser(e.ctx, tx, com.ID, identity.NewUser{Login: p.login, Password: demoPassword, Role: p.role, DisplayName: p.name, PIN: p.pin})
			if err != nil {
				return err
			}
			if _, ok := e.users[p.role]; !ok {
				e.users[p.role] = u
			}
			e.values["user."+p.login] = u.ID
		}
		e.leaders = append(e.leaders, e.users[identity.Leader])
		surnames := []string{"赵", "孙", "吴", "郑", "冯", "褚", "卫", "蒋"}
		for g := 1; g <= 3; g++ {
			grid, err := e.ids.CreateGrid(e.ctx, tx, com.ID, fmt.Sprintf("第%d网格", g))
			if err != nil {
				return err
			}
			for m := 1; m <= 3; m++ {
				leader := e.users[identity.Leader]
				if g > 1 || m > 1 {
					i := (g-1)*3 + m - 2
					leader, err = e.ids.CreateUser(e.ctx, tx, com.ID, identity.NewUser{
						Login: fmt.Sprintf("leader%d%d", g, m), Password: demoPassword, Role: identity.Leader,
						DisplayName: "邻长 " + surnames[i%len(surnames)] + "姐",
					})
					if err != nil {
						return err
					}
					e.leaders = append(e.leaders, leader)
				}
				id := leader.ID
				mg, err := e.ids.CreateMicroGrid(e.ctx, tx, com.ID, identity.NewMicroGrid{
					GridID: grid.ID, Name: fmt.Sprintf("%d-%d 邻里微网格", g, m), Households: 30 + (g*7+m*11)%50, LeaderUserID: &id,
				})
				if err != nil {
					return err
				}
				e.microGrids = append(e.microGrids, mg)
			}
		}
		return nil
	})
}
