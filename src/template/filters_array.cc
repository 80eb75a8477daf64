// List filters. The input is seen as liquidjs's toArray sees it (nil is empty, a scalar is a
// one-element list); results are new lists in the render's arena.
#include <cmath>
#include <string>

#include "template/filters.h"
#include "template/text.h"

namespace waymark::tmpl {

namespace {

// Reads a dotted property path ("price", "variant.sku") from `item`.
Datum ReadPath(const Datum& item, std::string_view path, Arena* arena) {
  Datum cur = item;
  while (true) {
    size_t dot = path.find('.');
    cur = GetKey(cur, path.substr(0, dot), arena);
    if (dot == std::string_view::npos || cur.is_nil()) return cur;
    path.remove_prefix(dot + 1);
  }
}

// JavaScript `a < b` for sort: strings compare as strings, anything else as numbers, where NaN
// orders neither way.
int OrderedCompare(const Datum& a, const Datum& b) {
  if (a.is_nil() && b.is_nil()) return 0;
  if (a.is_nil()) return 1;
  if (b.is_nil()) return -1;
  if (LiquidCompare(a, b, '<')) return -1;
  if (LiquidCompare(a, b, '>')) return 1;
  return 0;
}

int NaturalCompare(const Datum& a, const Datum& b) {
  if (a.is_nil() && b.is_nil()) return 0;
  if (a.is_nil()) return 1;
  if (b.is_nil()) return -1;
  std::string sa, sb, la, lb;
  AppendJsString(a, &sa);
  AppendJsString(b, &sb);
  AppendLower(sa, &la);
  AppendLower(sb, &lb);
  return LiquidCompare(Datum::String(la), Datum::String(lb), '<')   ? -1
         : LiquidCompare(Datum::String(la), Datum::String(lb), '>') ? 1
                                                                    : 0;
}

// A stable merge sort on keys. We do not use std::stable_sort: a comparator over mixed types need
// not be a strict weak order, and the standard algorithms do not promise memory safety then.
void MergeSort(DatumList* items, DatumList* keys, int (*cmp)(const Datum&, const Datum&)) {
  size_t n = items->size();
  DatumList tmp_items(n), tmp_keys(n);
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        bool right = cmp((*keys)[j], (*keys)[i]) < 0;
        size_t from = right ? j++ : i++;
        tmp_items[k] = (*items)[from];
        tmp_keys[k++] = (*keys)[from];
      }
      for (; i < mid; ++i, ++k) tmp_items[k] = (*items)[i], tmp_keys[k] = (*keys)[i];
      for (; j < hi; ++j, ++k) tmp_items[k] = (*items)[j], tmp_keys[k] = (*keys)[j];
    }
    items->swap(tmp_items);
    keys->swap(tmp_keys);
  }
}

void Sort(const Seq& seq, const FilterArgs& args, bool natural, FilterEnv& env, Datum* result) {
  DatumList* items = env.arena->NewList();
  DatumList* keys = env.arena->NewList();
  std::string_view property = args.at(0).truthy() ? Stringify(args.at(0), env.arena) : "";
  for (size_t i = 0; i < seq.size(); ++i) {
    items->push_back(seq[i]);
    keys->push_back(property.empty() ? seq[i] : ReadPath(seq[i], property, env.arena));
  }
  MergeSort(items, keys, natural ? NaturalCompare : OrderedCompare);
  *result = Datum::Array(items);
}

// JavaScript Set membership: scalars by value (NaN equals NaN), lists and objects by identity.
bool SameValueZero(const Datum& a, const Datum& b) {
  if (a.is_nil() || b.is_nil()) return a.kind == b.kind;
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Datum::Kind::kBool:
      return a.boolean == b.boolean;
    case Datum::Kind::kNumber:
      return a.number == b.number || (std::isnan(a.number) && std::isnan(b.number));
    case Datum::Kind::kString:
      return a.str == b.str;
    case Datum::Kind::kList:
    case Datum::Kind::kObject:
      return a.value == b.value;
    case Datum::Kind::kArray:
      return a.array == b.array;
    case Datum::Kind::kForloop:
      return a.forloop == b.forloop;
    default:
      return false;
  }
}

void Where(const Seq& seq, const FilterArgs& args, bool keep, FilterEnv& env, Datum* result) {
  DatumList* out = env.arena->NewList();
  std::string_view property = Stringify(args.at(0), env.arena);
  for (size_t i = 0; i < seq.size(); ++i) {
    Datum v = ReadPath(seq[i], property, env.arena);
    // An undefined expected value (a missing variable) tests truthiness, as if it were absent;
    // the nil literal reaches here unconverted, so `where: "x", nil` keeps items without x.
    bool match = args.at(1).kind != Datum::Kind::kNil ? LiquidEquals(v, args.at(1)) : v.truthy();
    if (match == keep) out->push_back(seq[i]);
  }
  *result = Datum::Array(out);
}

void Slice(const Datum& input, const FilterArgs& args, FilterEnv& env, Datum* result) {
  if (input.is_nil()) {
    *result = Datum::Array(env.arena->NewList());
    return;
  }
  double begin = std::trunc(ToNumberOr0(args.at(0)));
  double length = args.has(1) ? std::trunc(ToNumberOr0(args.at(1))) : 1;
  if (input.is_listlike()) {
    double n = static_cast<double>(ListSize(input));
    if (begin < 0) begin += n;
    DatumList* out = env.arena->NewList();
    *result = Datum::Array(out);
    if (begin < 0 || length < 0) return;
    for (double i = begin; i < std::min(n, begin + length); ++i) {
      out->push_back(ListAt(input, static_cast<size_t>(i)));
    }
    return;
  }
  std::string_view str = Stringify(input, env.arena);
  if (begin < 0) begin += static_cast<double>(CodePointLength(str));
  if (begin < 0 || length < 0) {
    *result = Datum::String({});
    return;
  }
  size_t start = AdvanceCodePoints(str, 0, static_cast<size_t>(begin));
  size_t end = AdvanceCodePoints(str, start, static_cast<size_t>(std::min(length, 1e15)));
  *result = Datum::String(str.substr(start, end - start));
}

void Join(const Seq& seq, const FilterArgs& args, FilterEnv& env, Datum* result) {
  std::string_view sep = args.at(0).is_nil() ? " " : Stringify(args.at(0), env.arena);
  std::string* s = env.arena->NewString();
  for (size_t i = 0; i < seq.size(); ++i) {
    if (i > 0) s->append(sep);
    Datum item = seq[i];
    if (!item.is_nil()) AppendJsString(item, s);
  }
  *result = Datum::String(*s);
}

void AppendJson(const Datum& d, std::string* out) {
  switch (d.kind) {
    case Datum::Kind::kNil:
      out->append("undefined");
      return;
    case Datum::Kind::kNull:
      out->append("null");
      return;
    case Datum::Kind::kNilLiteral:
    case Datum::Kind::kEmpty:
    case Datum::Kind::kBlank:
      out->append("{}");  // liquidjs's drops, objects without fields of their own
      return;
    case Datum::Kind::kString:
      AppendJsonString(d.str, out);
      return;
    case Datum::Kind::kNumber:
      if (std::isfinite(d.number)) {
        AppendJsNumber(d.number, out);
      } else {
        out->append("null");
      }
      return;
    case Datum::Kind::kObject:
      d.value->AppendJson(out);
      return;
    case Datum::Kind::kList:
    case Datum::Kind::kArray:
    case Datum::Kind::kRange: {
      out->push_back('[');
      for (size_t i = 0, n = ListSize(d); i < n; ++i) {
        if (i > 0) out->push_back(',');
        Datum e = ListAt(d, i);
        if (e.kind == Datum::Kind::kNil) {
          out->append("null");  // JSON.stringify writes undefined list elements as null.
        } else {
          AppendJson(e, out);
        }
      }
      out->push_back(']');
      return;
    }
    default:
      AppendText(d, out);
  }
}

}  // namespace

Status ApplyArrayFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                        Datum* result) {
  Seq seq(input);
  switch (id) {
    case FilterId::kFirst:
    case FilterId::kLast: {
      bool first = id == FilterId::kFirst;
      if (input.is_listlike()) {
        size_t n = ListSize(input);
        *result = n == 0 ? Datum::Nil() : ListAt(input, first ? 0 : n - 1);
      } else if (input.is_string() && !input.str.empty()) {
        // liquidjs takes only what has a length as a list: "" is not one and gives "", like nil.
        *result = GetIndex(input, first ? 0 : double(CodePointLength(input.str) - 1), env.arena);
      } else {
        *result = Datum::String({});
      }
      return Status::Ok();
    }
    case FilterId::kSize: {
      Datum size = input.is_nil() ? Datum::Number(0) : GetKey(input, "size", env.arena);
      *result = size.is_number() ? size : Datum::Number(0);
      return Status::Ok();
    }
    case FilterId::kJoin:
      Join(seq, args, env, result);
      return Status::Ok();
    case FilterId::kSort:
    case FilterId::kSortNatural:
      Sort(seq, args, id == FilterId::kSortNatural, env, result);
      return Status::Ok();
    case FilterId::kWhere:
    case FilterId::kReject:
      Where(seq, args, id == FilterId::kWhere, env, result);
      return Status::Ok();
    case FilterId::kSlice:
      Slice(input, args, env, result);
      return Status::Ok();
    case FilterId::kJson: {
      if (input.kind == Datum::Kind::kNil) {
        *result = Datum::Nil();  // JSON.stringify(undefined) is undefined, which prints nothing.
        return Status::Ok();
      }
      std::string* s = env.arena->NewString();
      AppendJson(input, s);
      *result = Datum::String(*s);
      return Status::Ok();
    }
    case FilterId::kSum: {
      double sum = 0;
      std::string_view property = args.at(0).truthy() ? Stringify(args.at(0), env.arena) : "";
      for (size_t i = 0; i < seq.size(); ++i) {
        double v = JsToNumber(property.empty() ? seq[i] : ReadPath(seq[i], property, env.arena));
        if (!std::isnan(v)) sum += v;
      }
      *result = Datum::Number(sum);
      return Status::Ok();
    }
    default:
      break;
  }

  DatumList* out = env.arena->NewList();
  *result = Datum::Array(out);
  switch (id) {
    case FilterId::kReverse:
      for (size_t i = seq.size(); i-- > 0;) out->push_back(seq[i]);
      break;
    case FilterId::kCompact:
      for (size_t i = 0; i < seq.size(); ++i) {
        if (!seq[i].is_nil()) out->push_back(seq[i]);
      }
      break;
    case FilterId::kConcat: {
      for (size_t i = 0; i < seq.size(); ++i) out->push_back(seq[i]);
      Datum arg = args.at(0);
      Seq more(arg);
      for (size_t i = 0; i < more.size(); ++i) out->push_back(more[i]);
      break;
    }
    case FilterId::kMap: {
      std::string_view property = Stringify(args.at(0), env.arena);
      for (size_t i = 0; i < seq.size(); ++i) {
        out->push_back(ReadPath(seq[i], property, env.arena));
      }
      break;
    }
    case FilterId::kUniq:
      for (size_t i = 0; i < seq.size(); ++i) {
        Datum item = seq[i];
        bool seen = false;
        for (const Datum& o : *out) seen = seen || SameValueZero(o, item);
        if (!seen) out->push_back(item);
      }
      break;
    default:
      return Status::Internal("filter is not a list filter");
  }
  return Status::Ok();
}

}  // namespace waymark::tmpl
