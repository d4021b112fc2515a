package pos

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// EventsChannel is the PostgreSQL NOTIFY channel of sale status changes.
const EventsChannel = "shelin_sale_events"

// Event is a sale's status change.
type Event struct {
	CommunityID string `json:"community_id"`
	OrderID     string `json:"order_id"`
	Status      string `json:"status"`
}

// notify queues a NOTIFY in tx: it is delivered to every listening replica
// when (and only if) tx commits.
func notify(ctx context.Context, tx *sqlx.Tx, communityID, orderID, status string) error {
	b, _ := json.Marshal(Event{CommunityID: communityID, OrderID: orderID, Status: status})
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, EventsChannel, string(b))
	return err
}

// Hub listens to sale events with pq.Listener and fans them out to
// subscribers (Server-Sent Events streams) of this replica.
type Hub struct {
	l    *pq.Listener
	mu   sync.Mutex
	subs map[string]map[chan Event]struct{}
}

// NewHub connects a listener to dsn.
func NewHub(dsn string) (*Hub, error) {
	h := &Hub{subs: map[string]map[chan Event]struct{}{}}
	h.l = pq.NewListener(dsn, 200*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			slog.Warn("sale events listener", "event", ev, "err", err)
		}
	})
	if err := h.l.Listen(EventsChannel); err != nil {
		h.l.Close()
		return nil, err
	}
	return h, nil
}

// Run delivers notifications until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	defer h.l.Close()
	ping := time.NewTicker(60 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ping.C:
			go h.l.Ping()
		case n, ok := <-h.l.Notify:
			if !ok {
				return
			}
			if n == nil { // reconnected: subscribers re-read the state
				h.broadcastAll()
				continue
			}
			var ev Event
			if err := json.Unmarshal([]byte(n.Extra), &ev); err != nil {
				continue
			}
			h.publish(ev)
		}
	}
}

func (h *Hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[ev.OrderID] {
		select {
		case ch <- ev:
		default: // a slow subscriber re-reads the state on its next event
		}
	}
}

func (h *Hub) broadcastAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, set := range h.subs {
		for ch := range set {
			select {
			case ch <- Event{OrderID: id, Status: "resync"}:
			default:
			}
		}
	}
}

// Subscribe returns a channel of an order's events and a cancel function.
func (h *Hub) Subscribe(orderID string) (<-chan Event, func()) {
	ch := make(chan Event, 8)
	h.mu.Lock()
	if h.subs[orderID] == nil {
		h.subs[orderID] = map[chan Event]struct{}{}
	}
	h.subs[orderID][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[orderID], ch)
		if len(h.subs[orderID]) == 0 {
			delete(h.subs, orderID)
		}
		h.mu.Unlock()
	}
}
