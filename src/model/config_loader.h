// Loading and validating configuration from YAML (JSON is accepted: it is YAML).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "model/config.h"

namespace waymark {

// Loads `path`: one file, or every *.yaml / *.yml / *.json file in a directory (sorted by name).
// Validation collects every problem it finds; on failure the returned Status's message lists
// them one per line as "file:line:col: message", and `errors` (when given) receives them too.
Result<std::shared_ptr<const Config>> LoadConfig(const std::string& path,
                                                 std::vector<std::string>* errors = nullptr);

// The same from text, with `name` standing for the file in messages. For tests.
Result<std::shared_ptr<const Config>> LoadConfigText(const std::string& text,
                                                     const std::string& name,
                                                     std::vector<std::string>* errors = nullptr);

// One journey document, as the admin API receives it: a mapping with the keys of one entry of
// `journeys:` (a config text whose only section is a `journeys:` list of one is accepted too), as
// YAML or JSON. Segments, templates and channels resolve against `base`; `base`'s journeys are
// not consulted, so the id may be one `base` already has. Errors as LoadConfig's, with `name`
// standing for the file. The result is the caller's to finish (the registry sets `version`).
Result<std::shared_ptr<JourneyDef>> LoadJourneyText(const Config& base, const std::string& text,
                                                    const std::string& name,
                                                    std::vector<std::string>* errors = nullptr);

}  // namespace waymark
