//===- KernelRegistry.cpp - Backends and their kernels --------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/KernelRegistry.h"

#include <algorithm>

namespace dlc::rt {

KernelRegistry &KernelRegistry::instance() {
  static KernelRegistry registry;
  return registry;
}

void KernelRegistry::addBackend(const BackendInfo &backend) { backends_[backend.name] = backend; }

void KernelRegistry::addKernel(const KernelFactory &factory) {
  kernels_[factory.backend][{factory.op, factory.kind}] = factory;
}

const BackendInfo *KernelRegistry::backend(const std::string &name) const {
  auto it = backends_.find(name);
  return it == backends_.end() ? nullptr : &it->second;
}

std::vector<std::string> KernelRegistry::backends() const {
  std::vector<const BackendInfo *> v;
  for (const auto &[name, b] : backends_)
    v.push_back(&b);
  std::stable_sort(v.begin(), v.end(), [](const BackendInfo *a, const BackendInfo *b) {
    return a->priority > b->priority;
  });
  std::vector<std::string> names;
  for (const BackendInfo *b : v)
    names.push_back(b->name);
  return names;
}

const KernelFactory *KernelRegistry::find(const std::string &backend, const std::string &op,
                                          KernelKind kind) const {
  auto b = kernels_.find(backend);
  if (b == kernels_.end())
    return nullptr;
  auto k = b->second.find({op, kind});
  return k == b->second.end() ? nullptr : &k->second;
}

bool KernelRegistry::has(const std::string &backend, const std::string &op) const {
  KernelDesc d;
  d.op = op;
  return find(backend, d.forwardOp(),
              d.isGradient() ? KernelKind::Backward : KernelKind::Forward) != nullptr;
}

std::vector<std::pair<std::string, KernelKind>>
KernelRegistry::kernelsOf(const std::string &backend) const {
  std::vector<std::pair<std::string, KernelKind>> r;
  auto b = kernels_.find(backend);
  if (b != kernels_.end())
    for (const auto &[key, f] : b->second)
      r.push_back(key);
  return r;
}

bool isFallback(const std::string &chosen, const std::vector<std::string> &backends) {
  const KernelRegistry &reg = KernelRegistry::instance();
  for (const std::string &b : backends) {
    if (b == chosen)
      return false;
    const BackendInfo *info = reg.backend(b);
    if (!(info && info->supplementary))
      return true;
  }
  return true;
}

BackendContext &BackendContexts::get(const std::string &backend) {
  auto it = contexts_.find(backend);
  if (it != contexts_.end())
    return *it->second;
  const BackendInfo *info = KernelRegistry::instance().backend(backend);
  if (!info)
    throw Error("unknown backend '" + backend + "'");
  std::unique_ptr<BackendContext> ctx =
      info->makeContext ? info->makeContext() : std::make_unique<BackendContext>();
  return *(contexts_[backend] = std::move(ctx));
}

namespace detail {

bool tryBackends(const KernelDesc &desc, const std::string &op, KernelKind kind,
                 const std::vector<std::string> &backends, BackendContexts &contexts,
                 bool noteMissing, KernelChoice &choice) {
  const KernelRegistry &reg = KernelRegistry::instance();
  auto note = [&](const std::string &b, const std::string &why) {
    choice.notes += (choice.notes.empty() ? "" : "; ") + b + ": " + why;
  };
  const std::string prefix = desc.errorPrefix();
  for (const std::string &b : backends) {
    const KernelFactory *f = reg.find(b, op, kind);
    const BackendInfo *info = reg.backend(b);
    // A supplementary backend passing a kernel over is no fallback: no note.
    const bool supplementary = info && info->supplementary;
    if (!f) {
      if (noteMissing && !supplementary)
        note(b, "no kernel for " + desc.op);
      continue;
    }
    if (f->whyNot) {
      std::string why = f->whyNot(desc);
      if (!why.empty()) {
        if (!supplementary)
          note(b, why);
        continue;
      }
    }
    // A kernel that does not know layouts gets plain tensors (docs/layouts.md).
    const bool adapt = !f->layouts && desc.hasBlocked() &&
                       layoutClassOf(desc) != ops::LayoutClass::Any;
    try {
      if (adapt)
        choice.kernel = plainLayoutKernel(desc, f->create(plainLayoutDesc(desc), contexts.get(b)));
      else
        choice.kernel = f->create(desc, contexts.get(b));
    } catch (const NotApplicable &n) {
      note(b, n.why);
      continue;
    } catch (const Error &e) {
      // Helpers below the factories do not know the layer: name it.
      std::string msg = e.what();
      if (msg.find("layer '") == std::string::npos)
        throw Error(prefix + msg);
      throw;
    }
    if (!choice.kernel) {
      note(b, "declined");
      continue;
    }
    choice.backend = b;
    return true;
  }
  return false;
}

} // namespace detail

KernelChoice createKernel(const KernelDesc &desc, const std::vector<std::string> &backends,
                          BackendContexts &contexts) {
  if (desc.isFused())
    return createFusedKernel(desc, backends, contexts);
  const KernelRegistry &reg = KernelRegistry::instance();
  const std::string op = desc.forwardOp();
  const KernelKind kind = desc.isGradient() ? KernelKind::Backward : KernelKind::Forward;
  auto display = [&](const std::string &b) {
    const BackendInfo *info = reg.backend(b);
    return std::string(info ? info->displayName : b.c_str());
  };
  if (std::none_of(backends.begin(), backends.end(),
                   [&](const std::string &b) { return reg.find(b, op, kind) != nullptr; })) {
    if (backends.size() == 1)
      desc.fail("no " + display(backends[0]) + " kernel for op '" + desc.op + "'");
    std::string list;
    for (const std::string &b : backends)
      list += (list.empty() ? "" : ", ") + b;
    desc.fail("no kernel for op '" + desc.op + "' in any backend (" + list + ")");
  }
  validateKernelDesc(desc);
  KernelChoice choice;
  if (detail::tryBackends(desc, op, kind, backends, contexts, /*noteMissing=*/true, choice))
    return choice;
  desc.fail("no backend can run it (" + choice.notes + ")");
}

} // namespace dlc::rt
