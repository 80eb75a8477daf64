#include "live/inbox.h"

#include "core/json.h"

namespace waymark::live {
namespace {

struct Stored {
  Time time;
  std::string id;
  Value item;
};

// The profile's unexpired messages, oldest first; expired ones are deleted on the way.
Result<std::vector<Stored>> Read(store::StateStore* store, const std::string& key, Time now) {
  std::vector<Stored> items;
  store::WriteBatch expired;
  Status bad;
  Status s = store->ScanInbox(key, [&](Time t, std::string_view id, std::string_view json) {
    Result<Value> v = ParseJson(json);
    if (!v.ok()) {
      bad = v.status().WithPrefix("inbox message " + std::string(id) + ": ");
      return false;
    }
    const Value* expires = v->Find("expires_at");
    std::optional<Time> until = expires != nullptr && expires->is_string()
                                    ? ParseIsoTime(expires->as_string())
                                    : std::nullopt;
    if (until && *until <= now) {
      expired.DeleteInbox(key, t, id);
      return true;
    }
    items.push_back(Stored{t, std::string(id), std::move(*v)});
    return true;
  });
  if (!s.ok()) return s;
  if (!bad.ok()) return bad;
  if (expired.count() > 0) WAYMARK_RETURN_IF_ERROR(store->Commit(expired, /*sync=*/false));
  return items;
}

}  // namespace

Result<Value> LiveInbox::List(std::string_view id, Time now) {
  std::string key = engine_->ProfileKeyOf(id);
  Result<std::vector<Stored>> items = Read(engine_->store(), key, now);
  if (!items.ok()) return items.status();
  Value::List list;
  for (auto it = items->rbegin(); it != items->rend(); ++it) {
    it->item.Erase("anonymous");
    list.push_back(std::move(it->item));
  }
  return Value(std::move(list));
}

Result<Value> LiveInbox::MarkRead(std::string_view id, std::string_view message_id, Time now) {
  std::string key = engine_->ProfileKeyOf(id);
  Result<std::vector<Stored>> items = Read(engine_->store(), key, now);
  if (!items.ok()) return items.status();
  for (Stored& s : *items) {
    if (s.id != message_id) continue;
    const Value* read = s.item.Find("read");
    if (read == nullptr || !read->is_bool() || !read->as_bool()) {
      s.item.Set("read", true);
      store::WriteBatch batch;
      batch.PutInbox(key, s.time, s.id, s.item.ToJson());
      WAYMARK_RETURN_IF_ERROR(engine_->store()->Commit(batch, /*sync=*/false));
      // Reading it is the in-app message's open: one event per message.
      Event e;
      e.type = EventType::kTrack;
      e.name = "Message Opened";
      const Value* anonymous = s.item.Find("anonymous");
      (anonymous != nullptr && anonymous->is_bool() && anonymous->as_bool() ? e.anonymous_id
                                                                            : e.user_id) = key;
      e.message_id = "opened-" + s.id;
      e.timestamp = now;
      e.properties = Value::EmptyObject();
      e.properties.Set("message_id", s.id);
      for (const char* field : {"journey", "step"}) {
        if (const Value* v = s.item.Find(field)) e.properties.Set(field, *v);
      }
      e.properties.Set("channel", "in_app");
      WAYMARK_RETURN_IF_ERROR(engine_->Accept({std::move(e)}));
    }
    s.item.Erase("anonymous");
    return std::move(s.item);
  }
  return Status::NotFound("no unexpired message '" + std::string(message_id) +
                          "' in the inbox of '" + std::string(id) + "'");
}

}  // namespace waymark::live
