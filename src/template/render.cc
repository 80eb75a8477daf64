// Template::Parse and Template::Render: the tree walk that turns nodes into text.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include "template/ast.h"
#include "template/filters.h"
#include "template/lexer.h"
#include "template/parser.h"

namespace waymark {

std::string TemplateError::ToString() const {
  return std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

Result<Template> Template::Parse(std::string_view text) {
  TemplateError error;
  return Parse(text, &error);
}

Result<Template> Template::Parse(std::string_view text, TemplateError* error) {
  auto impl = std::make_shared<Impl>();
  impl->source.assign(text);
  *error = TemplateError();
  tmpl::Parser parser(impl.get());
  if (!parser.Parse(error)) return Status::Parse(error->ToString());
  return Template(std::move(impl));
}

const std::vector<std::string>& Template::variables() const { return impl_->variables; }

namespace tmpl {
namespace {

constexpr int64_t kMaxRange = 10'000'000;

// Filters see the nil literal as a plain null, as liquidjs's toValue makes it. In place, since a
// copy of a Datum just written field by field stalls (see AssignValue).
void ToFilterValue(Datum* d) {
  if (d->kind == Datum::Kind::kNilLiteral) d->kind = Datum::Kind::kNull;
}

// The input of filter `id`: json alone sees liquidjs's drops (nil, empty, blank) as they are.
void ToFilterInput(FilterId id, Datum* d) {
  if (id != FilterId::kJson) ToFilterValue(d);
}

// Where `step` leads from `v` when it names a member of an object or an element of a list that
// exists; null otherwise (GetKey and GetIndex then decide: size, first, last, nil).
const Value* ValueStep(const Value& v, const PathStep& step) {
  if (step.kind == PathStep::Kind::kKey) return v.is_object() ? FindMember(v, step.key) : nullptr;
  if (step.kind != PathStep::Kind::kIndex || !v.is_list()) return nullptr;
  const Value::List& list = v.as_list();
  double index = step.index;
  if (index != std::trunc(index)) return nullptr;
  auto n = static_cast<double>(list.size());
  if (index < 0) index += n;
  if (index < 0 || index >= n) return nullptr;
  return &list[static_cast<size_t>(index)];
}

struct Binding {
  std::string_view name;
  Datum value;
};

// Buffers a thread reuses from one render to the next, so that steady-state rendering does not
// allocate.
struct Scratch {
  Arena arena;
  std::vector<Binding> loop_vars;  // innermost last
  std::vector<Binding> assigns;    // the bottom scope: assign and capture
  std::vector<Binding> counters;   // increment/decrement
  bool in_use = false;

  void Reset() {
    arena.Reset();
    loop_vars.clear();
    assigns.clear();
    counters.clear();
  }
};

class Renderer {
 public:
  Renderer(const Template::Impl& impl, const Value& vars, const RenderOptions& opts,
           Scratch* scratch)
      : impl_(impl),
        exprs_(impl.exprs.data()),
        steps_(impl.steps.data()),
        filters_(impl.filters.data()),
        filter_args_(impl.filter_args.data()),
        vars_(vars),
        opts_(opts),
        s_(*scratch),
        env_{&scratch->arena, &opts} {}

  Status Run(std::string* out) {
    RenderBlock(impl_.root, out);
    return std::move(error_);
  }

 private:
  enum class Flow : uint8_t { kNormal, kBreak, kContinue };

  bool RenderBlock(const Block& block, std::string* out);
  bool RenderNode(const Node& node, std::string* out);
  bool RenderOutput(const Node& node, std::string* out);
  // Applies the filters of `fe` to *v and prints the result.
  bool PrintFiltered(const FilteredExpr& fe, Datum* v, std::string* out);
  bool RenderIf(const Node& node, std::string* out);
  bool RenderCase(const Node& node, std::string* out);
  bool RenderFor(const Node& node, std::string* out);
  bool RenderLoopBody(const Node& node, const Datum& items, size_t begin, size_t count,
                      bool reversed, std::string* out);
  bool RenderCapture(const Node& node);
  bool RenderCounter(const Node& node, std::string* out);

  bool Eval(int32_t index, Datum* out);
  bool EvalFiltered(const FilteredExpr& fe, Datum* out);
  bool EvalOperator(const Expr& e, Datum* out);
  bool EvalSteps(const Expr& e, Datum* cur);
  bool EvalOtherSteps(const Expr& e, uint32_t first, Datum* cur);
  bool EvalRange(const Expr& e, Datum* out);
  // Applies the first `count` filters of `fe` to **cur, alternating between **cur and *spare for
  // each result rather than copying it back; on return *cur points at the one holding the last.
  bool ApplyFilters(const FilteredExpr& fe, uint32_t count, Datum** cur, Datum* spare);
  bool EvalArgs(const FilterCall& call, Datum* argv);
  void Lookup(const Expr& e, Datum* out) const;
  void Assign(std::string_view name, const Datum& value);
  Datum Enumerable(const Datum& d);
  bool Fail(uint32_t offset, const Status& status);

  const Template::Impl& impl_;
  // The pools of impl_, one load closer: Eval and the path steps read them all the time.
  const Expr* exprs_;
  const PathStep* steps_;
  const FilterCall* filters_;
  const FilterArg* filter_args_;
  const Value& vars_;
  const RenderOptions& opts_;
  Scratch& s_;
  FilterEnv env_;
  const Forloop* loop_ = nullptr;
  Flow flow_ = Flow::kNormal;
  Status error_;
};

bool Renderer::Fail(uint32_t offset, const Status& status) {
  int line, col;
  LineCol(impl_.source, offset, &line, &col);
  error_ = status.WithPrefix(std::to_string(line) + ":" + std::to_string(col) + ": ");
  return false;
}

bool Renderer::RenderBlock(const Block& block, std::string* out) {
  for (const Node& node : block) {
    if (!RenderNode(node, out)) return false;
    if (flow_ != Flow::kNormal) return true;
  }
  return true;
}

bool Renderer::RenderNode(const Node& node, std::string* out) {
  // Text and output are most nodes; test for them before the jump table of the rest.
  if (node.kind == NodeKind::kText) {
    out->append(node.text);
    return true;
  }
  if (node.kind == NodeKind::kOutput) return RenderOutput(node, out);
  switch (node.kind) {
    case NodeKind::kText:
      out->append(node.text);
      return true;
    case NodeKind::kOutput:
      return RenderOutput(node, out);
    case NodeKind::kIf:
      return RenderIf(node, out);
    case NodeKind::kCase:
      return RenderCase(node, out);
    case NodeKind::kFor:
      return RenderFor(node, out);
    case NodeKind::kBreak:
      flow_ = Flow::kBreak;
      return true;
    case NodeKind::kContinue:
      flow_ = Flow::kContinue;
      return true;
    case NodeKind::kAssign: {
      Datum v;
      if (!EvalFiltered(node.value, &v)) return false;
      Assign(node.text, v);
      return true;
    }
    case NodeKind::kCapture:
      return RenderCapture(node);
    case NodeKind::kIncrement:
    case NodeKind::kDecrement:
      return RenderCounter(node, out);
  }
  return true;
}

bool Renderer::RenderOutput(const Node& node, std::string* out) {
  Arena::Mark mark = s_.arena.mark();
  const FilteredExpr& fe = node.value;
  Datum v;
  if (!Eval(fe.expr, &v)) return false;
  if (fe.filter_count > 0) {
    if (!PrintFiltered(fe, &v, out)) return false;
  } else if (v.is_string()) {
    out->append(v.str);
  } else {
    AppendText(v, out);
  }
  s_.arena.Release(mark);  // Nothing refers to what the filters made once it is printed.
  return true;
}

// A last filter that builds new text writes it straight into `out`; nothing here can point into
// `out`, which only a capture binds, once it is complete.
bool Renderer::PrintFiltered(const FilteredExpr& fe, Datum* v, std::string* out) {
  Datum spare;
  Datum* value = v;
  const FilterCall& last = filters_[fe.filter_begin + fe.filter_count - 1];
  if (!AppendsText(last.id)) {
    if (!ApplyFilters(fe, fe.filter_count, &value, &spare)) return false;
    if (value->is_string()) {
      out->append(value->str);
    } else {
      AppendText(*value, out);
    }
    return true;
  }
  if (!ApplyFilters(fe, fe.filter_count - 1, &value, &spare)) return false;
  Datum argv[kMaxFilterArgs];
  if (!EvalArgs(last, argv)) return false;
  FilterArgs args{argv, last.arg_count, last.allow_false};
  ToFilterInput(last.id, value);
  Status st = AppendFilter(last.id, *value, args, env_, out);
  return st.ok() || Fail(last.offset, st);
}

bool Renderer::RenderIf(const Node& node, std::string* out) {
  for (const Branch& b : node.branches) {
    bool taken = true;
    if (!b.conds.empty()) {
      Arena::Mark mark = s_.arena.mark();
      Datum v;
      if (!EvalFiltered(b.conds[0], &v)) return false;
      s_.arena.Release(mark);
      taken = v.truthy() != b.negate;
    }
    if (taken) return RenderBlock(b.body, out);
  }
  return true;
}

// Every `when` whose value equals the subject renders (liquidjs and Shopify agree); `else` renders
// when none did.
bool Renderer::RenderCase(const Node& node, std::string* out) {
  Arena::Mark mark = s_.arena.mark();
  Datum subject;
  if (!EvalFiltered(node.value, &subject)) return false;
  bool hit = false, rendered = false;
  for (const Branch& b : node.branches) {
    if (b.conds.empty()) {
      if (hit) continue;
      rendered = true;
      if (!RenderBlock(b.body, out)) return false;
      continue;
    }
    for (const FilteredExpr& c : b.conds) {
      Datum v;
      if (!Eval(c.expr, &v)) return false;
      if (!LiquidEquals(subject, v)) continue;
      hit = true;
      if (!RenderBlock(b.body, out)) return false;
      break;
    }
    if (flow_ != Flow::kNormal) break;
  }
  // What the subject and values made can go once no body has run; a body may have captured or
  // assigned text that lives in the arena.
  if (!hit && !rendered) s_.arena.Release(mark);
  return true;
}

// liquidjs's toEnumerable: lists as they are, a non-empty string as one item, an object as its
// [key, value] pairs, anything else as nothing.
Datum Renderer::Enumerable(const Datum& d) {
  if (d.is_listlike()) return d;
  DatumList* items = s_.arena.NewList();
  if (d.is_string() && !d.str.empty()) items->push_back(d);
  if (d.kind == Datum::Kind::kObject) {
    for (const Value::Member& m : d.value->as_object()) {
      DatumList* pair = s_.arena.NewList();
      pair->push_back(Datum::String(m.first));
      pair->push_back(Datum::Of(m.second));
      items->push_back(Datum::Array(pair));
    }
  }
  return Datum::Array(items);
}

bool Renderer::RenderFor(const Node& node, std::string* out) {
  Datum collection, limit, offset;
  if (!Eval(node.value.expr, &collection)) return false;
  if (node.limit >= 0 && !Eval(node.limit, &limit)) return false;
  if (node.offset >= 0 && !Eval(node.offset, &offset)) return false;
  Datum items = Enumerable(collection);

  // Modifiers apply in liquidjs's order: offset, then limit, then reversed; one whose value is
  // undefined (a missing variable) does not apply. A negative offset shortens the limit, with its
  // fraction: offset -1.5 and limit 3 keep one item.
  double size = static_cast<double>(ListSize(items));
  double begin = 0, end = size;
  if (node.offset >= 0) begin = std::min(size, std::max(0.0, std::trunc(ToNumberOr0(offset))));
  if (node.limit >= 0 && limit.kind != Datum::Kind::kNil) {
    double n = JsToNumber(limit) + std::min(ToNumberOr0(offset), 0.0);
    end = std::isnan(n) ? begin : std::min(end, begin + std::trunc(std::max(n, 0.0)));
  }
  size_t count = end > begin ? static_cast<size_t>(end - begin) : 0;
  if (count == 0) return RenderBlock(node.else_body, out);
  return RenderLoopBody(node, items, static_cast<size_t>(begin), count, node.reversed, out);
}

bool Renderer::RenderLoopBody(const Node& node, const Datum& items, size_t begin, size_t count,
                              bool reversed, std::string* out) {
  Forloop* loop = s_.arena.NewForloop();
  loop->length = static_cast<int64_t>(count);
  loop->parent = loop_;
  Datum loop_datum;
  loop_datum.kind = Datum::Kind::kForloop;
  loop_datum.forloop = loop;
  size_t slot = s_.loop_vars.size();
  s_.loop_vars.push_back({"forloop", loop_datum});
  s_.loop_vars.push_back({node.text, Datum()});
  const Forloop* saved = loop_;
  loop_ = loop;
  bool ok = true;
  for (size_t i = 0; i < count; ++i) {
    size_t index = reversed ? begin + count - 1 - i : begin + i;
    loop->index0 = static_cast<int64_t>(i);
    Datum& item = s_.loop_vars[slot + 1].value;
    if (items.kind == Datum::Kind::kList) {
      AssignValue(items.value->as_list()[index], &item);
    } else {
      item = ListAt(items, index);
    }
    if (!(ok = RenderBlock(node.body, out))) break;
    if (flow_ == Flow::kBreak) {
      flow_ = Flow::kNormal;
      break;
    }
    flow_ = Flow::kNormal;
  }
  loop_ = saved;
  s_.loop_vars.resize(slot);
  return ok;
}

bool Renderer::RenderCapture(const Node& node) {
  std::string* text = s_.arena.NewString();
  if (!RenderBlock(node.body, text)) return false;
  Assign(node.text, Datum::String(*text));
  return true;
}

// liquidjs keeps counters among the variables given to the render, so a counter starts from a
// numeric variable of the same name and, once set, hides it.
bool Renderer::RenderCounter(const Node& node, std::string* out) {
  Binding* counter = nullptr;
  for (Binding& b : s_.counters) {
    if (b.name == node.text) counter = &b;
  }
  if (counter == nullptr) {
    const Value* v = vars_.Find(node.text);
    double start = (v != nullptr && v->is_number()) ? v->as_number() : 0;
    s_.counters.push_back({node.text, Datum::Number(start)});
    counter = &s_.counters.back();
  }
  if (node.kind == NodeKind::kIncrement) {
    AppendJsNumber(counter->value.number, out);
    counter->value.number += 1;
  } else {
    counter->value.number -= 1;
    AppendJsNumber(counter->value.number, out);
  }
  return true;
}

void Renderer::Assign(std::string_view name, const Datum& value) {
  for (Binding& b : s_.assigns) {
    if (b.name == name) {
      b.value = value;
      return;
    }
  }
  s_.assigns.push_back({name, value});
}

void Renderer::Lookup(const Expr& e, Datum* out) const {
  std::string_view name = e.name;
  if (!e.unbound) {
    for (size_t i = s_.loop_vars.size(); i-- > 0;) {
      if (SameName(s_.loop_vars[i].name, name)) {
        *out = s_.loop_vars[i].value;
        return;
      }
    }
    for (const Binding& b : s_.assigns) {
      if (SameName(b.name, name)) {
        *out = b.value;
        return;
      }
    }
    for (const Binding& b : s_.counters) {
      if (SameName(b.name, name)) {
        *out = b.value;
        return;
      }
    }
  }
  const Value* v = vars_.is_object() ? FindMember(vars_, name) : nullptr;
  if (v != nullptr) {
    AssignValue(*v, out);
  } else {
    *out = Datum::Nil();
  }
}

bool Renderer::EvalFiltered(const FilteredExpr& fe, Datum* out) {
  if (!Eval(fe.expr, out)) return false;
  if (fe.filter_count == 0) return true;
  Datum spare;
  Datum* value = out;
  if (!ApplyFilters(fe, fe.filter_count, &value, &spare)) return false;
  if (value != out) *out = *value;
  return true;
}

bool Renderer::EvalArgs(const FilterCall& call, Datum* argv) {
  for (uint32_t a = 0; a < call.arg_count; ++a) {
    int32_t index = filter_args_[call.arg_begin + a].expr;
    const Expr& e = exprs_[index];
    if (e.kind == ExprKind::kLiteral) {
      argv[a] = e.literal;  // most arguments: "€", "%B %-d, %Y", 2
    } else if (!Eval(index, &argv[a])) {
      return false;
    }
    // liquidjs hands filters their arguments as they are; where and reject compare the expected
    // value with ==, for which the nil literal still matters. The others stringify or convert it.
    bool expected = a == 1 && (call.id == FilterId::kWhere || call.id == FilterId::kReject);
    if (!expected) ToFilterValue(&argv[a]);
  }
  return true;
}

bool Renderer::ApplyFilters(const FilteredExpr& fe, uint32_t count, Datum** cur, Datum* spare) {
  Datum* result = spare;
  for (uint32_t i = 0; i < count; ++i) {
    const FilterCall& call = filters_[fe.filter_begin + i];
    Datum argv[kMaxFilterArgs];  // The parser checked arg_count against each filter's maximum.
    if (!EvalArgs(call, argv)) return false;
    FilterArgs args{argv, call.arg_count, call.allow_false};
    ToFilterInput(call.id, *cur);
    Status st = ApplyFilter(call.id, **cur, args, env_, result);
    if (!st.ok()) return Fail(call.offset, st);
    std::swap(*cur, result);
  }
  return true;
}

bool Renderer::Eval(int32_t index, Datum* out) {
  const Expr& e = exprs_[index];
  switch (e.kind) {
    case ExprKind::kLiteral:
      *out = e.literal;
      return true;
    case ExprKind::kVariable:
      Lookup(e, out);
      return e.step_count == 0 || EvalSteps(e, out);
    case ExprKind::kPath:
      return Eval(e.lhs, out) && EvalSteps(e, out);
    case ExprKind::kRange:
      return EvalRange(e, out);
    default:
      return EvalOperator(e, out);
  }
}

// Kept out of Eval so that the frame for two operands is only set up for operators, not for
// every variable and literal.
[[gnu::noinline]] bool Renderer::EvalOperator(const Expr& e, Datum* out) {
  Datum l, r;
  if (!Eval(e.lhs, &l)) return false;
  if (e.kind == ExprKind::kNot) {
    *out = Datum::Bool(!l.truthy());
    return true;
  }
  if (!Eval(e.rhs, &r)) return false;
  switch (e.kind) {
    case ExprKind::kAnd:
      *out = Datum::Bool(l.truthy() && r.truthy());
      break;
    case ExprKind::kOr:
      *out = Datum::Bool(l.truthy() || r.truthy());
      break;
    case ExprKind::kEq:
      *out = Datum::Bool(LiquidEquals(l, r));
      break;
    case ExprKind::kNe:
      *out = Datum::Bool(!LiquidEquals(l, r));
      break;
    case ExprKind::kLt:
      *out = Datum::Bool(LiquidCompare(l, r, '<'));
      break;
    case ExprKind::kGt:
      *out = Datum::Bool(LiquidCompare(l, r, '>'));
      break;
    case ExprKind::kLe:
      *out = Datum::Bool(LiquidCompare(l, r, 'l'));
      break;
    case ExprKind::kGe:
      *out = Datum::Bool(LiquidCompare(l, r, 'g'));
      break;
    case ExprKind::kContains:
      *out = Datum::Bool(LiquidContains(l, r));
      break;
    default:
      *out = Datum::Nil();
  }
  return true;
}

// Walks the steps that stay inside the variables' Values (members found, list indexes in range)
// on Value pointers; the rest, and every step from other data, goes through GetKey and friends.
bool Renderer::EvalSteps(const Expr& e, Datum* cur) {
  const PathStep* steps = steps_ + e.step_begin;
  uint32_t i = 0;
  if (cur->kind == Datum::Kind::kObject || cur->kind == Datum::Kind::kList) {
    const Value* v = cur->value;
    for (; i < e.step_count; ++i) {
      const Value* next = ValueStep(*v, steps[i]);
      if (next == nullptr) break;
      v = next;
    }
    AssignValue(*v, cur);
    if (i == e.step_count) return true;
  }
  return EvalOtherSteps(e, i, cur);
}

// Kept apart from EvalSteps, whose common case then needs no frame for the Datums made here.
[[gnu::noinline]] bool Renderer::EvalOtherSteps(const Expr& e, uint32_t first, Datum* cur) {
  const PathStep* steps = steps_ + e.step_begin;
  for (uint32_t i = first; i < e.step_count && !cur->is_nil(); ++i) {
    const PathStep& step = steps[i];
    switch (step.kind) {
      case PathStep::Kind::kKey:
        *cur = GetKey(*cur, step.key, &s_.arena);
        break;
      case PathStep::Kind::kIndex:
        *cur = GetIndex(*cur, step.index, &s_.arena);
        break;
      case PathStep::Kind::kComputed: {
        Datum key;
        if (!Eval(step.expr, &key)) return false;
        *cur = GetComputed(*cur, key, &s_.arena);
        break;
      }
    }
  }
  return true;
}

bool Renderer::EvalRange(const Expr& e, Datum* out) {
  Datum lo, hi;
  if (!Eval(e.lhs, &lo) || !Eval(e.rhs, &hi)) return false;
  double a = std::trunc(JsToNumber(lo)), b = std::trunc(JsToNumber(hi));
  if (std::isnan(a) || std::isnan(b) || b < a) {
    *out = Datum::Range(0, -1);
    return true;
  }
  if (b - a >= static_cast<double>(kMaxRange)) {
    error_ =
        Status::Invalid("range (" + std::to_string(int64_t(a)) + ".." + std::to_string(int64_t(b)) +
                        ") has more than " + std::to_string(kMaxRange) + " items");
    return false;
  }
  *out = Datum::Range(static_cast<int64_t>(a), static_cast<int64_t>(b));
  return true;
}

}  // namespace
}  // namespace tmpl

Status Template::Render(const Value& vars, const RenderOptions& opts, std::string* out) const {
  thread_local tmpl::Scratch shared;
  std::unique_ptr<tmpl::Scratch> nested;  // Only when a render runs inside another on this thread.
  tmpl::Scratch* scratch = &shared;
  if (shared.in_use) {
    nested = std::make_unique<tmpl::Scratch>();
    scratch = nested.get();
  }
  scratch->in_use = true;
  size_t old_size = out->size();
  out->reserve(old_size + impl_->text_bytes + impl_->text_bytes / 2);
  Status st = tmpl::Renderer(*impl_, vars, opts, scratch).Run(out);
  if (!st.ok()) out->resize(old_size);
  scratch->Reset();
  scratch->in_use = false;
  return st;
}

}  // namespace waymark
