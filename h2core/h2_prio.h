/* h2_prio.h: stream priority and the send scheduler.
 *
 * One h2_prio per connection. It knows streams only by their 31-bit id and
 * answers one question for the engine: which stream sends the next frame.
 * Two priority schemes feed the same scheduler:
 *
 *  - RFC 7540 §5.3 dependency tree (H2_PRIO_MODE_TREE, the default; what
 *    Node's stream.priority({exclusive, parent, weight, silent}) exposes).
 *    Every stream depends on a parent (0 = the root) with a weight 1..256.
 *    Ready siblings share bandwidth in proportion to their weights (weighted
 *    fair queueing on virtual time, one queue per parent holding only the
 *    children that have something ready below them). A ready stream blocks
 *    its descendants: they are served only while it is not ready.
 *  - RFC 9218 extensible priorities (H2_PRIO_MODE_RFC9218), used when both
 *    endpoints sent SETTINGS_NO_RFC7540_PRIORITIES = 1. The tree is bypassed:
 *    urgency 0 (first) .. 7 (last); within one urgency the non-incremental
 *    streams are served one at a time, lowest stream id first, until that
 *    stream stops being ready; then the incremental ones, round robin, one
 *    frame each.
 *
 * The engine owns the stream states; it tells this module about them:
 *   h2_prio_open      a stream becomes open / half-closed / reserved
 *   h2_prio_close     a stream is closed (the node is remembered a while,
 *                     unless it never had priority information)
 *   h2_prio_set       HEADERS priority fields, PRIORITY frame, or a local
 *                     stream.priority() call (tree)
 *   h2_prio_set_urgency / h2_prio_set_header / h2_prio_update_field
 *                     Priority header field, PRIORITY_UPDATE frame (9218)
 *   h2_prio_set_ready a stream has (or no longer has) data it may send now
 *   h2_prio_next      which stream sends next
 *   h2_prio_charge    that stream sent N bytes
 *   h2_prio_set_mode  the SETTINGS exchange decided the scheme
 *
 * Engine call sequence (server or client, per connection):
 *   new connection        h2_prio_new(mem, &cfg)
 *   SETTINGS settled      both sides NO_RFC7540_PRIORITIES=1:
 *                         h2_prio_set_mode(p, H2_PRIO_MODE_RFC9218)
 *   HEADERS opens stream  h2_prio_open(p, id, PRIORITY flag ? &spec : NULL)
 *                         (H2_ERR_PROTOCOL: RST_STREAM PROTOCOL_ERROR), then
 *                         for a request with a `priority` field:
 *                         h2_prio_set_header(p, id, value, len)
 *   push / local request  h2_prio_open(p, id, options ? &spec : NULL)
 *   PRIORITY frame        h2_prio_set(p, id, &spec) in any stream state
 *                         (H2_ERR_PROTOCOL: RST_STREAM PROTOCOL_ERROR)
 *   stream.priority()     h2_prio_set(p, id, &spec), then send PRIORITY
 *                         unless silent
 *   PRIORITY_UPDATE       h2_prio_update_field(p, prioritized_id, v, len)
 *   data/headers queued and window > 0: h2_prio_set_ready(p, id, 1)
 *   nothing left, or stream/conn window exhausted: h2_prio_set_ready(p,id,0)
 *   writing               while ((id = h2_prio_next(p)) != 0) { build one
 *                         frame for id; h2_prio_charge(p, id, len); update
 *                         ready }   (connection window 0: stop asking)
 *   stream closed         h2_prio_close(p, id)
 *   connection gone       h2_prio_free(p)
 *
 * Cost: h2_prio_next and h2_prio_charge are O(d log k) amortized, d being
 * the depth of the chosen stream in the tree and k the number of queued
 * siblings along its path (flat trees and RFC 9218 mode: O(log n); O(1) for
 * an incremental stream in RFC 9218 mode). They never look at streams that
 * are not ready and never allocate. h2_prio_set_ready is O(d log k).
 * h2_prio_set is O(d) (the §5.3.3 descendant check) plus O(c log c) for an
 * exclusive insertion over c children. Removing a node moves its c children.
 * Lookup by id is a hash table (O(1) expected). d and c are at most the
 * number of nodes, i.e. open streams + max_inactive: a peer that builds a
 * deep chain pays with one PRIORITY frame per level.
 *
 * Remembered nodes: PRIORITY frames may name idle and closed streams
 * (RFC 9113 §5.1, §6.3), and a PRIORITY_UPDATE may precede its request.
 * Such inactive nodes (idle ones created by a priority signal, closed ones
 * kept by h2_prio_close) are bounded by |max_inactive|: when the bound is
 * exceeded the oldest inactive node (the one that became inactive first) is
 * removed, its children moving up to its parent (§5.3.4). Active (open)
 * nodes are never evicted; their number is bounded by the engine's
 * SETTINGS_MAX_CONCURRENT_STREAMS.
 *
 * Sans-IO, libc only, no global state. All memory comes from the h2_mem
 * given to h2_prio_new. Not thread safe: one connection, one thread. */
#ifndef H2_PRIO_H
#define H2_PRIO_H

#include <stddef.h>
#include <stdint.h>

#include "h2_err.h"
#include "h2_mem.h"

#define H2_PRIO_MODE_TREE 0    /* RFC 7540 dependency tree (default) */
#define H2_PRIO_MODE_RFC9218 1 /* RFC 9218 urgency / incremental */

#define H2_PRIO_DEFAULT_WEIGHT 16
#define H2_PRIO_DEFAULT_URGENCY 3
#define H2_PRIO_MAX_STREAM_ID 0x7fffffffu
#define H2_PRIO_DEFAULT_MAX_INACTIVE 128

/* Node states as h2_prio_get reports them. */
#define H2_PRIO_STATE_IDLE 0   /* known only from a priority signal */
#define H2_PRIO_STATE_ACTIVE 1 /* opened with h2_prio_open */
#define H2_PRIO_STATE_CLOSED 2 /* closed, remembered for later references */

typedef struct h2_prio h2_prio;

/* h2_prio_config: limits. Zeroed fields take the defaults. */
typedef struct h2_prio_config {
  /* max_inactive bounds the idle + closed nodes remembered. 0 means
   * H2_PRIO_DEFAULT_MAX_INACTIVE; to remember none pass |no_inactive| = 1. */
  uint32_t max_inactive;
  int no_inactive;
  /* mode is the initial scheme, H2_PRIO_MODE_TREE or H2_PRIO_MODE_RFC9218. */
  int mode;
} h2_prio_config;

/* h2_prio_spec: an RFC 7540 priority (HEADERS priority fields, PRIORITY
 * frame, Node's priority options). */
typedef struct h2_prio_spec {
  uint32_t parent;  /* stream depended on; 0 = root */
  uint16_t weight;  /* 1..256 (the wire carries weight - 1) */
  uint8_t exclusive;/* 1: become the sole child of |parent| */
} h2_prio_spec;

/* h2_prio_info: what h2_prio_get reports about one node. */
typedef struct h2_prio_info {
  uint32_t parent;         /* 0 = root */
  uint16_t weight;         /* 1..256 */
  uint32_t sum_child_weight; /* Node's state.sumDependencyWeight */
  uint32_t num_children;
  uint8_t urgency;         /* 0..7 */
  uint8_t incremental;     /* 0/1 */
  uint8_t state;           /* H2_PRIO_STATE_* */
  uint8_t ready;           /* 0/1 */
} h2_prio_info;

/* h2_prio_new creates an empty scheduler. |mem| NULL means the default
 * allocator; it must outlive the object. |cfg| NULL means defaults. Returns
 * NULL if the allocation fails or cfg->mode is not a known mode. */
h2_prio *h2_prio_new(const h2_mem *mem, const h2_prio_config *cfg);

/* h2_prio_free frees |p| and every node. Accepts NULL. */
void h2_prio_free(h2_prio *p);

/* h2_prio_trim gives back what an empty scheduler of a lightly used
 * connection holds: when no node is left and at most 4 freed nodes are kept
 * for reuse, those and a minimum-size id table are freed (they come back
 * on demand). A busier scheduler keeps them for its next burst. Meant for a
 * connection going idle. */
void h2_prio_trim(h2_prio *p);

/* h2_prio_set_mode switches between H2_PRIO_MODE_TREE and
 * H2_PRIO_MODE_RFC9218. The engine calls it with RFC9218 once it has both
 * sent and received SETTINGS_NO_RFC7540_PRIORITIES = 1 (normally before any
 * stream exists). Ready streams are requeued under the new scheme (O(n),
 * once). Tree links and urgencies are kept, so switching back restores the
 * tree. The eight RFC 9218 urgency buckets are allocated on entering that
 * mode and freed on leaving it. Returns 0, H2_ERR_INVALID_ARG for an unknown
 * mode, or H2_ERR_NOMEM (the mode is then unchanged). */
int h2_prio_set_mode(h2_prio *p, int mode);

/* h2_prio_mode returns the current H2_PRIO_MODE_*. */
int h2_prio_mode(const h2_prio *p);

/* h2_prio_open registers stream |id| (1..2^31-1) as active (open,
 * half-closed or reserved). In tree mode with |spec| non-NULL (HEADERS with
 * the PRIORITY flag, or the priority given to a local request/push) the
 * stream is placed as h2_prio_set would place it. With |spec| NULL it keeps
 * the priority a PRIORITY frame gave it while idle, or gets the default
 * (parent 0, weight 16). |spec| is ignored in RFC 9218 mode. Urgency starts
 * at 3, non-incremental, unless a PRIORITY_UPDATE arrived while idle.
 * Errors: H2_ERR_INVALID_ARG (id 0 or > 2^31-1, weight out of range),
 * H2_ERR_PROTOCOL (spec->parent == id: stream error, RST_STREAM
 * PROTOCOL_ERROR; the stream is still registered, as if |spec| were NULL,
 * so the engine can h2_prio_close it like any other), H2_ERR_STATE
 * (already active or closed), H2_ERR_NOMEM (nothing changed). */
int h2_prio_open(h2_prio *p, uint32_t id, const h2_prio_spec *spec);

/* h2_prio_set applies an RFC 7540 priority to stream |id|, in any state
 * (§5.3.3): a PRIORITY frame from the peer, or a local stream.priority()
 * (Node's |silent| only decides whether the engine also sends a PRIORITY
 * frame; the local change is the same). If |id| is unknown an idle node is
 * remembered (subject to max_inactive; with no room the signal is dropped
 * and 0 returned). If spec->parent is unknown it is remembered as an idle
 * node with the default priority; with no room for it the stream gets the
 * default priority instead (§5.3.1). If spec->parent is a descendant of
 * |id|, that descendant first moves to |id|'s former parent, keeping its
 * weight (§5.3.3). With spec->exclusive the parent's other children move
 * under |id|. In RFC 9218 mode only the self-dependency check is done.
 * Errors: H2_ERR_PROTOCOL when spec->parent == id (self-dependency, a
 * stream error: RST_STREAM PROTOCOL_ERROR; nothing changed),
 * H2_ERR_INVALID_ARG (id 0 or > 2^31-1, parent > 2^31-1, weight not in
 * 1..256), H2_ERR_NOMEM (nothing changed). */
int h2_prio_set(h2_prio *p, uint32_t id, const h2_prio_spec *spec);

/* h2_prio_set_urgency sets the RFC 9218 urgency (0..7) and incremental flag
 * of stream |id| as a PRIORITY_UPDATE does: it overrides the header field
 * and is remembered for an idle stream (subject to max_inactive; with no
 * room it is dropped and 0 returned). Takes effect at once in RFC 9218 mode
 * (a ready stream moves to its new bucket); stored in tree mode. Errors:
 * H2_ERR_INVALID_ARG (bad id, urgency > 7), H2_ERR_NOMEM. */
int h2_prio_set_urgency(h2_prio *p, uint32_t id, uint8_t urgency, int incremental);

/* h2_prio_update_field is h2_prio_set_urgency with the PRIORITY_UPDATE
 * Priority Field Value |value| (|len| octets, not NUL-terminated) parsed by
 * h2_prio_parse_field. Errors as h2_prio_set_urgency. */
int h2_prio_update_field(h2_prio *p, uint32_t id, const uint8_t *value, size_t len);

/* h2_prio_set_header applies the request's `priority` header field value
 * to the active stream |id|, unless a PRIORITY_UPDATE already set its
 * priority (RFC 9218 §7: the frame is the later signal). Call after
 * h2_prio_open; with several `priority` fields, join them with ", " first
 * (RFC 9110 §5.3) or pass the last one. Errors: H2_ERR_INVALID_ARG (bad id),
 * H2_ERR_NOT_FOUND (no such node). */
int h2_prio_set_header(h2_prio *p, uint32_t id, const uint8_t *value, size_t len);

/* h2_prio_parse_field parses an RFC 9218 Priority field value (an RFC 8941
 * dictionary) into |*out_urgency| (0..7, default 3) and |*out_incremental|
 * (0/1, default 0). Every member is syntax-checked (RFC 8941 §4.2), but
 * only u and i are read; unknown keys and all parameters are ignored. As in
 * any dictionary the last member with a given key wins; if that member's
 * value is not valid for its key (u not an Integer in 0..7, i not a
 * Boolean; a bare "i" is true) it is ignored and the default stands
 * (RFC 9218 §4). If the value is not a valid dictionary at all (e.g. a
 * trailing comma, an unterminated string, an upper-case key) the result is
 * the defaults. Leading/trailing SP and HTAB are skipped. Never fails:
 * returns 1 if the dictionary parsed, 0 if it was rejected (defaults
 * given). Pure; |value| may be NULL when |len| is 0. */
int h2_prio_parse_field(const uint8_t *value, size_t len, uint8_t *out_urgency, int *out_incremental);

/* h2_prio_close marks active (or idle) stream |id| closed: it is no longer
 * scheduled, and it is remembered as a closed node so later PRIORITY
 * frames and dependencies on it keep their place; when the inactive bound
 * is exceeded the oldest inactive node is removed (§5.3.4 re-parenting).
 * A stream opened without a priority (|spec| NULL) that never got one (no
 * h2_prio_set, urgency or header) and still sits childless under the root
 * with the default weight is forgotten at once instead: a later reference
 * finds an idle node with that same default priority (§5.3.1), and
 * remembered nodes with real information are not evicted for it.
 * Closing a closed node does nothing. Returns 0, H2_ERR_NOT_FOUND (unknown
 * id; e.g. already evicted) or H2_ERR_INVALID_ARG. Cannot fail otherwise:
 * the only allocation is an optional shrink of the hash table. */
int h2_prio_close(h2_prio *p, uint32_t id);

/* h2_prio_remove forgets node |id| now, whatever its state (§5.3.4): its
 * children move to its parent and share its weight in proportion to their
 * own weights (w_child * w_removed / sum of the children's weights, rounded
 * down, at least 1). Returns 0, H2_ERR_NOT_FOUND or H2_ERR_INVALID_ARG.
 * Cannot fail otherwise (an optional table shrink may be skipped). */
int h2_prio_remove(h2_prio *p, uint32_t id);

/* h2_prio_set_ready tells the scheduler whether active stream |id| has a
 * frame it may send now (data, or headers/trailers, within its windows).
 * Idempotent. Returns 0, H2_ERR_NOT_FOUND, H2_ERR_STATE (node not active),
 * H2_ERR_INVALID_ARG. Never allocates. */
int h2_prio_set_ready(h2_prio *p, uint32_t id, int ready);

/* h2_prio_next returns the id of the stream that should send the next
 * frame, or 0 if no stream is ready. Does not change state: calling it twice
 * gives the same answer; h2_prio_charge moves the schedule on. */
uint32_t h2_prio_next(h2_prio *p);

/* h2_prio_charge records that stream |id| sent a frame of |bytes| octets
 * (payload, or payload + 9 if the engine prefers; be consistent). Tree mode:
 * advances the virtual time of |id| and of every ancestor by bytes/weight.
 * RFC 9218 mode: an incremental stream moves to the back of its bucket; a
 * non-incremental one stays first until it is no longer ready. Charging a
 * stream that is not ready is allowed (the cost still counts). Returns 0,
 * H2_ERR_NOT_FOUND, H2_ERR_INVALID_ARG. Never allocates. */
int h2_prio_charge(h2_prio *p, uint32_t id, size_t bytes);

/* h2_prio_get fills |*out| for node |id|. Returns 0, H2_ERR_NOT_FOUND or
 * H2_ERR_INVALID_ARG. */
int h2_prio_get(const h2_prio *p, uint32_t id, h2_prio_info *out);

/* h2_prio_num_nodes returns the number of nodes (active + inactive);
 * h2_prio_num_inactive the idle + closed ones. */
size_t h2_prio_num_nodes(const h2_prio *p);
size_t h2_prio_num_inactive(const h2_prio *p);

/* h2_prio_memory returns the octets currently allocated by |p| (the object,
 * its nodes and its hash table). */
size_t h2_prio_memory(const h2_prio *p);

#endif
