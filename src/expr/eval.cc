// Evaluation of compiled conditions. Nothing here allocates: operands point into the context.

#include <algorithm>
#include <charconv>

#include "expr/expr.h"

namespace waymark::expr {

namespace {

Operand Missing() { return Operand{}; }

Operand FromValue(const Value* v) {
  Operand op;
  if (v == nullptr) return op;
  switch (v->type()) {
    case Value::Type::kNull:
      break;
    case Value::Type::kBool:
      op.type = Type::kBool;
      op.b = v->as_bool();
      break;
    case Value::Type::kNumber:
      op.type = Type::kNumber;
      op.n = v->as_number();
      break;
    case Value::Type::kString:
      op.type = Type::kString;
      op.s = v->as_string();
      break;
    case Value::Type::kList:
      op.type = Type::kList;
      op.v = v;
      break;
    case Value::Type::kObject:
      op.type = Type::kUnknown;
      op.v = v;
      break;
  }
  return op;
}

Operand Str(std::string_view s) {
  Operand op;
  if (s.empty()) return op;  // empty ids are "not set"
  op.type = Type::kString;
  op.s = s;
  return op;
}

Operand Num(double n) {
  Operand op;
  op.type = Type::kNumber;
  op.n = n;
  return op;
}

Operand TimeOp(Time t) {
  Operand op;
  if (t == kTimeMin || t == kTimeMax) return op;
  op.type = Type::kTime;
  op.t = t;
  return op;
}

Operand BoolOp(bool b) {
  Operand op;
  op.type = Type::kBool;
  op.b = b;
  return op;
}

// A string operand compared with a timestamp is read as ISO 8601.
bool AsTime(const Operand& o, Time* out) {
  if (o.type == Type::kTime) {
    *out = o.t;
    return true;
  }
  if (o.type == Type::kString) {
    auto t = ParseIsoTime(o.s);
    if (t) *out = *t;
    return t.has_value();
  }
  return false;
}

bool ValueEquals(const Value& v, const Operand& o) {
  switch (o.type) {
    case Type::kString:
      return v.is_string() && v.as_string() == o.s;
    case Type::kNumber:
      return v.is_number() && v.as_number() == o.n;
    case Type::kBool:
      return v.is_bool() && v.as_bool() == o.b;
    default:
      return false;
  }
}

// Three-way comparison; returns false when the operands cannot be compared.
bool Order(const Operand& a, const Operand& b, int* cmp) {
  if (a.type == Type::kNumber && b.type == Type::kNumber) {
    *cmp = a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    return true;
  }
  if (a.type == Type::kString && b.type == Type::kString) {
    int c = a.s.compare(b.s);
    *cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
    return true;
  }
  if (a.type == Type::kBool && b.type == Type::kBool) {
    *cmp = a.b == b.b ? 0 : 1;
    return true;
  }
  if (a.type == Type::kTime || b.type == Type::kTime) {
    Time ta, tb;
    if (!AsTime(a, &ta) || !AsTime(b, &tb)) return false;
    *cmp = ta < tb ? -1 : ta > tb ? 1 : 0;
    return true;
  }
  if (a.type == Type::kDuration && b.type == Type::kDuration) {
    *cmp = a.t < b.t ? -1 : a.t > b.t ? 1 : 0;
    return true;
  }
  return false;
}

bool IsMissing(const Operand& o) { return o.type == Type::kNull; }

}  // namespace

class Evaluator {
 public:
  Evaluator(const Expr& e, const EvalContext& ctx) : e_(e), ctx_(ctx) {}

  Operand Eval(int i, const EventView* ev) const {
    const Node& n = e_.nodes_[i];
    switch (n.op) {
      case Op::kLiteral:
        return Literal(n);
      case Op::kList: {
        Operand op;
        op.type = Type::kList;
        op.v = &e_.constants_[n.constant];
        return op;
      }
      case Op::kNow:
        return TimeOp(ctx_.now);
      case Op::kPath:
        return Path(n, ev);
      case Op::kAdd:
      case Op::kSub:
        return Arith(n, ev);
      case Op::kAnd:
        return BoolOp(Test(n.a, ev) && Test(n.b, ev));
      case Op::kOr:
        return BoolOp(Test(n.a, ev) || Test(n.b, ev));
      case Op::kNot:
        return BoolOp(!Test(n.a, ev));
      case Op::kExists:
        return BoolOp(!IsMissing(Eval(n.a, ev)));
      case Op::kCount: {
        // Outside a comparison with a literal we cannot tell which expiry matters: the oldest.
        Matches m = History(n);
        if (m.count > 0) NoteExpiryAt(n, m.first);
        return Num(double(m.count));
      }
      case Op::kDid: {
        Matches m = History(n);
        if (m.count > 0) NoteExpiryAt(n, m.last);  // false once the newest match has left
        return BoolOp(m.count > 0);
      }
      case Op::kLast: {
        Matches m = History(n);
        if (m.count > 0) NoteExpiryAt(n, m.last);
        return TimeOp(m.newest);
      }
      case Op::kInSegment: {
        size_t idx = size_t(n.num);
        return BoolOp(ctx_.segments != nullptr && idx < ctx_.segments->size() &&
                      (*ctx_.segments)[idx] != 0);
      }
      default:
        return BoolOp(Compare(n, ev));
    }
  }

  bool Test(int i, const EventView* ev) const {
    Operand o = Eval(i, ev);
    return o.type == Type::kBool && o.b;
  }

 private:
  Operand Literal(const Node& n) const {
    Operand op;
    op.type = n.type;
    switch (n.type) {
      case Type::kNumber:
        op.n = n.num;
        break;
      case Type::kBool:
        op.b = n.boolean;
        break;
      case Type::kString:
        op.s = e_.strings_[n.str];
        break;
      case Type::kTime:
        op.t = n.time;
        break;
      case Type::kDuration:
        op.t = Time(n.dur);
        break;
      default:
        op.type = Type::kNull;
        break;
    }
    return op;
  }

  Operand Arith(const Node& n, const EventView* ev) const {
    Operand a = Eval(n.a, ev), b = Eval(n.b, ev);
    bool add = n.op == Op::kAdd;
    if (a.type == Type::kNumber && b.type == Type::kNumber) return Num(add ? a.n + b.n : a.n - b.n);
    if (b.type == Type::kDuration) {
      Duration d = b.t.time_since_epoch();
      if (a.type == Type::kTime) return TimeOp(add ? a.t + d : a.t - d);
      if (a.type == Type::kDuration) {
        Operand r;
        r.type = Type::kDuration;
        r.t = add ? a.t + d : a.t - d;
        return r;
      }
    }
    return Missing();
  }

  const Value* Walk(const Value* v, const Node& n) const {
    for (uint32_t i = 0; i < n.num_parts && v != nullptr; ++i) {
      const std::string& part = e_.strings_[n.first_part + i];
      if (v->is_list()) {
        size_t index = 0;
        auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
        if (ec != std::errc() || index >= v->as_list().size()) return nullptr;
        v = &v->as_list()[index];
      } else {
        v = v->Find(part);
      }
    }
    return v;
  }

  Operand Path(const Node& n, const EventView* ev) const {
    if (n.root == Root::kProfile) return ProfilePath(n);
    if (n.root == Root::kLastMessage) return LastMessagePath(n);
    EventView view;
    if (n.root == Root::kTrigger) {
      if (ctx_.trigger == nullptr) return Missing();
      view = ViewOf(*ctx_.trigger);
    } else if (ev != nullptr) {
      view = *ev;
    } else {
      if (ctx_.event == nullptr) return Missing();
      view = ViewOf(*ctx_.event);
    }
    const Event* full = view.full;
    switch (n.field) {
      case Field::kName:
        return Str(view.name);
      case Field::kTimestamp:
        return TimeOp(view.time);
      case Field::kType:
        return full ? Str(EventTypeName(full->type)) : Str("track");
      case Field::kUserId:
        return full ? Str(full->user_id) : Missing();
      case Field::kAnonymousId:
        return full ? Str(full->anonymous_id) : Missing();
      case Field::kMessageId:
        return full ? Str(full->message_id) : Missing();
      case Field::kTraits:
        return full ? FromValue(Walk(&full->traits, n)) : Missing();
      default:
        return FromValue(view.properties ? Walk(view.properties, n) : nullptr);
    }
  }

  static EventView ViewOf(const Event& e) {
    return EventView{Profile::HistoryName(e), e.timestamp, &e.properties, &e};
  }

  Operand LastMessagePath(const Node& n) const {
    const MessageView& m = ctx_.last_message;
    if (m.id.empty()) return Missing();
    switch (n.field) {
      case Field::kLastMessageId:
        return Str(m.id);
      case Field::kChannel:
        return Str(m.channel);
      case Field::kStep:
        return Str(m.step);
      case Field::kSentAt:
        return TimeOp(m.sent_at);
      default:
        return Missing();
    }
  }

  Operand ProfilePath(const Node& n) const {
    const Profile* p = ctx_.profile;
    if (p == nullptr) return Missing();
    switch (n.field) {
      case Field::kProfileId:
        return Str(p->key);
      case Field::kUserId:
        return Str(p->user_id);
      case Field::kTimezone: {
        const Value* tz = p->traits.Find("timezone");
        return FromValue(tz);
      }
      case Field::kFirstSeen:
        return TimeOp(p->first_seen);
      case Field::kLastSeen:
        return TimeOp(p->last_seen);
      case Field::kEventCount:
        return Num(double(p->event_count));
      case Field::kOrderCount:
        return Num(double(p->order_count));
      case Field::kRevenue:
        return Num(p->revenue);
      case Field::kLastOrderAt:
        return TimeOp(p->last_order_at);
      default:
        return FromValue(Walk(&p->traits, n));
    }
  }

  // Whether a history entry's name is `name`. Entries point at their rule's name storage
  // (HistoryEntry::name), so once one entry matched, the others filed under the same rule match
  // by address without comparing the text: scans of long histories spent most of their time in
  // memcmp.
  class NameMatcher {
   public:
    explicit NameMatcher(std::string_view name) : name_(name) {}
    bool operator()(std::string_view entry) {
      if (entry.size() != name_.size()) return false;
      if (entry.data() == known_) return true;
      if (entry != name_) return false;
      known_ = entry.data();
      return true;
    }

   private:
    std::string_view name_;
    const char* known_ = nullptr;
  };

  // What a history function found: the matches' count, and the times a caller may need to know
  // when the result changes as matches leave the window.
  struct Matches {
    uint64_t count = 0;
    Time first = kTimeMax;   // of the first match in history order
    Time last = kTimeMax;    // of the last match in history order
    Time newest = kTimeMin;  // the latest of the matches' times
    // The times (milliseconds) of the first kKept matches in history order, for the kth-oldest
    // expiry; left uninitialized past `count`.
    static constexpr uint64_t kKept = 16;
    int64_t kept[kKept];
  };

  // Finds the history entries matching the node, in one pass.
  Matches History(const Node& n) const {
    Matches m;
    const Profile* p = ctx_.profile;
    if (p == nullptr) return m;
    std::string_view name = e_.strings_[n.str];
    Time from = kTimeMin;
    if (n.dur != Duration::max()) from = ctx_.now - n.dur;
    if (n.since_entry) from = std::max(from, ctx_.entered_at);
    NameMatcher matches_name(name);
    for (const HistoryEntry& h : p->history) {
      if (h.time < from || h.time > ctx_.now || !matches_name(h.name)) continue;
      if (n.a >= 0) {
        EventView view{h.name, h.time, h.properties.get(), nullptr};
        if (!Test(n.a, &view)) continue;
      }
      if (m.count < Matches::kKept) m.kept[m.count] = ToMillis(h.time);
      if (m.count == 0) m.first = h.time;
      ++m.count;
      m.last = h.time;
      m.newest = std::max(m.newest, h.time);
    }
    return m;
  }

  // The time of the kth match (1-based, in history order; k <= count), scanning again only when
  // it is past the ones History() kept.
  Time KthMatch(const Node& n, const Matches& m, uint64_t k) const {
    if (k <= Matches::kKept) return FromMillis(m.kept[k - 1]);
    std::string_view name = e_.strings_[n.str];
    Time from = kTimeMin;
    if (n.dur != Duration::max()) from = ctx_.now - n.dur;
    if (n.since_entry) from = std::max(from, ctx_.entered_at);
    uint64_t seen = 0;
    NameMatcher matches_name(name);
    for (const HistoryEntry& h : ctx_.profile->history) {
      if (h.time < from || h.time > ctx_.now || !matches_name(h.name)) continue;
      if (n.a >= 0) {
        EventView view{h.name, h.time, h.properties.get(), nullptr};
        if (!Test(n.a, &view)) continue;
      }
      if (++seen == k) return h.time;
    }
    return kTimeMax;
  }

  // A windowed result changes when a match at `t` leaves the window, just after t + window.
  // Records that instant as the next change.
  void NoteExpiryAt(const Node& n, Time t) const {
    if (ctx_.next_change == nullptr || n.dur == Duration::max() || t == kTimeMax) return;
    Time flip = t + n.dur + Duration(1);
    if (flip > ctx_.now) *ctx_.next_change = std::min(*ctx_.next_change, flip);
  }

  // `count(...) <op> literal`: the smallest number of expiries that flips the comparison, or 0
  // when expiries alone can never flip it.
  static uint64_t ExpiriesToFlip(Op op, uint64_t count, double limit, bool count_on_left) {
    auto holds = [&](uint64_t c) {
      double a = count_on_left ? double(c) : limit, b = count_on_left ? limit : double(c);
      switch (op) {
        case Op::kEq:
          return a == b;
        case Op::kNe:
          return a != b;
        case Op::kLt:
          return a < b;
        case Op::kLe:
          return a <= b;
        case Op::kGt:
          return a > b;
        case Op::kGe:
          return a >= b;
        default:
          return false;
      }
    };
    bool now = holds(count);
    if (op == Op::kEq || op == Op::kNe) {
      for (uint64_t k = 1; k <= count; ++k) {
        if (holds(count - k) != now) return k;
      }
      return 0;
    }
    // An ordering holds on one side of a threshold, so as matches expire it flips at most once:
    // binary search for the first expiry count at which it has.
    if (count == 0 || holds(0) == now) return 0;
    uint64_t lo = 1, hi = count;  // holds(count - hi) != now
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      if (holds(count - mid) != now) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  bool Compare(const Node& n, const EventView* ev) const {
    const Node& na = e_.nodes_[n.a];
    const Node& nb = e_.nodes_[n.b];
    bool count_left = na.op == Op::kCount && nb.op == Op::kLiteral && nb.type == Type::kNumber;
    bool count_right = nb.op == Op::kCount && na.op == Op::kLiteral && na.type == Type::kNumber;
    if (count_left || count_right) {
      const Node& count_node = count_left ? na : nb;
      double limit = count_left ? nb.num : na.num;
      Matches m = History(count_node);
      uint64_t count = m.count;
      uint64_t k = ExpiriesToFlip(n.op, count, limit, count_left);
      if (k > 0 && ctx_.next_change != nullptr && count_node.dur != Duration::max()) {
        NoteExpiryAt(count_node, KthMatch(count_node, m, k));
      }
      Operand c = Num(double(count)), l = Num(limit);
      return CompareOperands(n, count_left ? c : l, count_left ? l : c);
    }
    Operand a = Eval(n.a, ev), b = Eval(n.b, ev);
    return CompareOperands(n, a, b);
  }

  bool CompareOperands(const Node& n, const Operand& a, const Operand& b) const {
    NoteThreshold(n, a, b);
    switch (n.op) {
      case Op::kEq:
      case Op::kNe: {
        bool eq;
        if (IsMissing(a) || IsMissing(b)) {
          eq = IsMissing(a) && IsMissing(b) &&
               (e_.nodes_[n.a].type == Type::kNull || e_.nodes_[n.b].type == Type::kNull);
        } else {
          int cmp;
          eq = Order(a, b, &cmp) && cmp == 0;
        }
        return n.op == Op::kEq ? eq : !eq;
      }
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        int cmp;
        if (IsMissing(a) || IsMissing(b) || !Order(a, b, &cmp)) return false;
        if (n.op == Op::kLt) return cmp < 0;
        if (n.op == Op::kLe) return cmp <= 0;
        if (n.op == Op::kGt) return cmp > 0;
        return cmp >= 0;
      }
      case Op::kIn: {
        if (IsMissing(a) || b.type != Type::kList) return false;
        for (const Value& item : b.v->as_list()) {
          if (ValueEquals(item, a)) return true;
        }
        return false;
      }
      case Op::kContains: {
        if (a.type == Type::kString && b.type == Type::kString) {
          return a.s.find(b.s) != std::string_view::npos;
        }
        if (a.type == Type::kList) {
          for (const Value& item : a.v->as_list()) {
            if (ValueEquals(item, b)) return true;
          }
        }
        return false;
      }
      case Op::kStartsWith:
        return a.type == Type::kString && b.type == Type::kString && a.s.starts_with(b.s);
      case Op::kEndsWith:
        return a.type == Type::kString && b.type == Type::kString && a.s.ends_with(b.s);
      default:
        return false;
    }
  }

  // For `X < now - 30d` style comparisons, the result flips when `now` reaches X + 30d: tell the
  // caller so a segment can be re-evaluated then.
  void NoteThreshold(const Node& n, const Operand& a, const Operand& b) const {
    if (ctx_.next_change == nullptr || a.type != Type::kTime || b.type != Type::kTime) return;
    Duration a_off, b_off;
    bool a_now = NowOffset(n.a, &a_off), b_now = NowOffset(n.b, &b_off);
    if (a_now == b_now) return;
    // now + off == other  =>  now == other - off.
    Time flip = a_now ? b.t - a_off : a.t - b_off;
    if (flip >= ctx_.now) *ctx_.next_change = std::min(*ctx_.next_change, flip + Duration(1));
  }

  // True when node i is `now`, `now + d` or `now - d`; sets the offset.
  bool NowOffset(int i, Duration* off) const {
    const Node& n = e_.nodes_[i];
    if (n.op == Op::kNow) {
      *off = Duration(0);
      return true;
    }
    if ((n.op == Op::kAdd || n.op == Op::kSub) && e_.nodes_[n.a].op == Op::kNow &&
        e_.nodes_[n.b].op == Op::kLiteral && e_.nodes_[n.b].type == Type::kDuration) {
      *off = n.op == Op::kAdd ? e_.nodes_[n.b].dur : -e_.nodes_[n.b].dur;
      return true;
    }
    return false;
  }

  const Expr& e_;
  const EvalContext& ctx_;
};

bool Expr::Test(const EvalContext& ctx) const {
  if (nodes_.empty()) return true;
  return Evaluator(*this, ctx).Test(int(nodes_.size()) - 1, nullptr);
}

Operand Expr::Eval(const EvalContext& ctx) const {
  if (nodes_.empty()) return Operand{};
  return Evaluator(*this, ctx).Eval(int(nodes_.size()) - 1, nullptr);
}

std::string OperandText(const Operand& op) {
  switch (op.type) {
    case Type::kBool:
      return op.b ? "true" : "false";
    case Type::kNumber:
      return FormatNumber(op.n);
    case Type::kString:
      return std::string(op.s);
    case Type::kTime:
      return FormatIsoTime(op.t);
    case Type::kDuration:
      return FormatDuration(op.t.time_since_epoch());
    case Type::kList:
      return op.v->ToJson();
    case Type::kUnknown:
      return op.v ? op.v->ToJson() : "";
    default:
      return "";
  }
}

std::string Expr::EvalText(const EvalContext& ctx) const { return OperandText(Eval(ctx)); }

void Expr::CollectTriggerProperties(std::vector<std::string>* names, bool* all) const {
  for (const Node& n : nodes_) {
    if (n.op != Op::kPath || n.root != Root::kTrigger) continue;
    if (n.field == Field::kTraits) {
      *all = true;
    } else if (n.field == Field::kPath) {
      if (n.num_parts == 0) {
        *all = true;
        continue;
      }
      const std::string& first = strings_[n.first_part];
      if (std::find(names->begin(), names->end(), first) == names->end()) names->push_back(first);
    }
  }
}

std::string Expr::Explain(const EvalContext& ctx) const {
  Evaluator ev(*this, ctx);
  std::string out;
  std::vector<std::string> seen;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    std::string label;
    if (n.op == Op::kPath) {
      label = n.root == Root::kEvent         ? "event"
              : n.root == Root::kTrigger     ? "trigger"
              : n.root == Root::kLastMessage ? "last_message"
                                             : "profile";
      static constexpr std::string_view kFieldNames[] = {"",
                                                         "name",
                                                         "type",
                                                         "userId",
                                                         "anonymousId",
                                                         "messageId",
                                                         "timestamp",
                                                         "traits",
                                                         "id",
                                                         "timezone",
                                                         "first_seen",
                                                         "last_seen",
                                                         "event_count",
                                                         "order_count",
                                                         "revenue",
                                                         "last_order_at",
                                                         "id",
                                                         "channel",
                                                         "step",
                                                         "sent_at"};
      if (n.field != Field::kPath) {
        label += ".";
        label += kFieldNames[static_cast<int>(n.field)];
      }
      for (uint32_t p = 0; p < n.num_parts; ++p) label += "." + strings_[n.first_part + p];
    } else if (n.op == Op::kCount || n.op == Op::kDid || n.op == Op::kLast) {
      label = std::string(n.op == Op::kCount ? "count"
                          : n.op == Op::kDid ? "did"
                                             : "last") +
              "(\"" + strings_[n.str] + "\")";
    } else {
      continue;
    }
    if (std::find(seen.begin(), seen.end(), label) != seen.end()) continue;
    seen.push_back(label);
    Operand v = ev.Eval(int(i), nullptr);
    if (!out.empty()) out += ", ";
    out += label + " = " +
           (v.type == Type::kNull     ? std::string("(missing)")
            : v.type == Type::kString ? "\"" + std::string(v.s) + "\""
                                      : OperandText(v));
  }
  return out;
}

}  // namespace waymark::expr
