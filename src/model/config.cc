#include "model/config.h"

namespace waymark {

std::string_view ChannelKindName(ChannelKind k) {
  switch (k) {
    case ChannelKind::kEmail:
      return "email";
    case ChannelKind::kSms:
      return "sms";
    case ChannelKind::kPush:
      return "push";
    case ChannelKind::kInApp:
      return "in_app";
    case ChannelKind::kWebhook:
      return "webhook";
  }
  return "?";
}

std::string_view StepKindName(StepKind k) {
  switch (k) {
    case StepKind::kWait:
      return "wait";
    case StepKind::kWaitUntil:
      return "wait_until";
    case StepKind::kWaitFor:
      return "wait_for";
    case StepKind::kBranch:
      return "branch";
    case StepKind::kSplit:
      return "split";
    case StepKind::kHoldout:
      return "holdout";
    case StepKind::kSend:
      return "send";
    case StepKind::kUpdateProfile:
      return "update_profile";
    case StepKind::kWebhook:
      return "webhook";
    case StepKind::kExit:
      return "exit";
  }
  return "?";
}

std::string_view AttributionName(JourneyDef::Attribution a) {
  return a == JourneyDef::Attribution::kClick ? "click" : "view";
}

bool VariableNeeds::Wants(std::string_view member) const {
  if (all) return true;
  for (const std::string& m : members)
    if (m == member) return true;
  return false;
}

int JourneyDef::StepIndex(std::string_view step_id) const {
  for (size_t i = 0; i < steps.size(); ++i)
    if (steps[i].id == step_id) return int(i);
  return -1;
}

int Config::ChannelIndex(std::string_view id) const {
  for (size_t i = 0; i < channels.size(); ++i)
    if (channels[i].id == id) return int(i);
  return -1;
}

int Config::TemplateIndex(std::string_view id) const {
  for (size_t i = 0; i < templates.size(); ++i)
    if (templates[i].id == id) return int(i);
  return -1;
}

int Config::SegmentIndex(std::string_view id) const {
  for (size_t i = 0; i < segments.size(); ++i)
    if (segments[i].id == id) return int(i);
  return -1;
}

int Config::JourneyIndex(std::string_view id) const {
  for (size_t i = 0; i < journeys.size(); ++i)
    if (journeys[i]->id == id) return int(i);
  return -1;
}

std::shared_ptr<const JourneyDef> Config::FindJourneyVersion(std::string_view id,
                                                             uint32_t version) const {
  int index = JourneyIndex(id);
  if (index < 0) return nullptr;
  if (journeys[index]->version == version) return journeys[index];
  for (const auto& j : retained_versions)
    if (j->id == id && j->version == version) return j;
  return nullptr;
}

std::string_view JourneyStatusName(JourneyStatus s) {
  switch (s) {
    case JourneyStatus::kActive:
      return "active";
    case JourneyStatus::kPaused:
      return "paused";
    case JourneyStatus::kArchived:
      return "archived";
  }
  return "?";
}

void AddJourneyHistory(const JourneyDef& journey, HistoryPolicy* policy) {
  auto add = [&](const expr::Expr& e) {
    for (const HistoryPolicy::Rule& need : e.history_needs()) policy->Add(need);
  };
  add(journey.entry_filter);
  add(journey.key);
  for (const JourneyDef::ExitRule& x : journey.exits) add(x.filter);
  add(journey.goal_filter);
  for (const StepDef& s : journey.steps) {
    add(s.wait_filter);
    for (const StepDef::Branch& b : s.branches) add(b.condition);
  }
}

}  // namespace waymark
