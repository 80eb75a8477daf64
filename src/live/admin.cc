#include "live/admin.h"

#include <yaml-cpp/yaml.h>

#include "live/log.h"

namespace waymark::live {
namespace {

// The id a journey document names: `id`, or that of the only entry of a `journeys:` list. Empty
// when the document has none (the registry has refused such a document before this is asked).
std::string JourneyIdOf(std::string_view text) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsMap() && root["journeys"] && root["journeys"].IsSequence() &&
        root["journeys"].size() == 1) {
      root = root["journeys"][0];
    }
    if (root.IsMap() && root["id"] && root["id"].IsScalar()) return root["id"].Scalar();
  } catch (const YAML::Exception&) {
  }
  return {};
}

}  // namespace

LiveAdmin::LiveAdmin(JourneyRegistry* registry, LiveEngine* engine)
    : registry_(registry), engine_(engine) {
  registry_->SetChangeListener([engine](const std::shared_ptr<const Config>& config) {
    if (Status s = engine->SwapConfig(config); !s.ok()) {
      // The registry checked the config against the disk config; a refusal here is a bug.
      Log().error("journey change not applied by the engine error=\"{}\"", s.message());
    }
  });
}

LiveAdmin::~LiveAdmin() { registry_->SetChangeListener({}); }

Result<Value> LiveAdmin::ListJourneys() { return registry_->List(/*include_archived=*/false); }

Result<Value> LiveAdmin::GetJourney(std::string_view id) {
  std::optional<Value> v = registry_->Get(id);
  if (!v) return Status::NotFound("unknown journey '" + std::string(id) + "'");
  return std::move(*v);
}

Result<Value> LiveAdmin::ValidateJourney(std::string_view text) {
  std::vector<std::string> errors = registry_->Validate(text);
  Value out = Value::EmptyObject();
  out.Set("valid", errors.empty());
  Value::List list;
  for (std::string& e : errors) list.emplace_back(std::move(e));
  out.Set("errors", Value(std::move(list)));
  return out;
}

Result<Value> LiveAdmin::CreateJourneyVersion(std::string_view text) {
  Result<uint32_t> version = registry_->CreateVersion(text);
  if (!version.ok()) return version.status();
  std::string id = JourneyIdOf(text);
  Log().info("journey version created journey={} version={}", id, *version);
  Value out = Value::EmptyObject();
  out.Set("id", id);
  out.Set("version", int64_t(*version));
  out.Set("state", "draft");
  return out;
}

Result<Value> LiveAdmin::JourneyAction(std::string_view id, std::string_view action,
                                       std::optional<uint32_t> version) {
  Result<std::shared_ptr<const Config>> changed = Status::Invalid("unknown action");
  if (action == "publish") {
    uint32_t v = 0;
    if (version) {
      v = *version;
    } else {
      std::optional<Value> journey = registry_->Get(id);
      if (!journey) return Status::NotFound("unknown journey '" + std::string(id) + "'");
      const Value* latest = journey->Find("latest_version");
      if (latest == nullptr || !latest->is_number()) {
        return Status::Invalid("journey '" + std::string(id) + "' has no version to publish");
      }
      v = uint32_t(latest->as_number());
    }
    changed = registry_->Publish(id, v);
    if (changed.ok()) Log().info("journey published journey={} version={}", id, v);
  } else if (action == "pause") {
    changed = registry_->Pause(id);
  } else if (action == "resume") {
    changed = registry_->Resume(id);
  } else if (action == "archive") {
    changed = registry_->Archive(id);
  } else {
    return Status::Invalid("unknown journey action '" + std::string(action) + "'");
  }
  if (!changed.ok()) return changed.status();
  if (action != "publish") Log().info("journey {} journey={}", action, id);
  return GetJourney(id);
}

Result<Value> LiveAdmin::GetProfile(std::string_view id) { return engine_->ProfileView(id); }

Result<Value> LiveAdmin::Stats(std::optional<std::string_view> journey_id) {
  return engine_->StatsView(journey_id);
}

Result<Value> LiveAdmin::Outbox(std::string_view status, size_t limit) {
  store::DeliveryStatus s;
  if (status == "pending") {
    s = store::DeliveryStatus::kPending;
  } else if (status == "delivered") {
    s = store::DeliveryStatus::kDelivered;
  } else if (status == "failed") {
    s = store::DeliveryStatus::kFailed;
  } else {
    return Status::Invalid("outbox status must be pending, delivered or failed, got '" +
                           std::string(status) + "'");
  }
  return engine_->OutboxView(s, limit);
}

std::string LiveAdmin::RenderMetrics() { return engine_->RenderMetrics(); }

}  // namespace waymark::live
