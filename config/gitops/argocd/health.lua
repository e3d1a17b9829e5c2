-- Argo CD health check for ftcost.io/FineTuneEstimate (install: argocd-cm.yaml).
-- Progressing only while the operator has not estimated the current generation (or, briefly, retries
-- reading a price catalog: Reconciling=True, as kstatus reads it); once it has, the answer is final: Healthy when Approved (or not Approved under policy Advisory), Degraded when the
-- estimate cannot be computed (Ready=False) or says no under policy Enforce (PricesStale included:
-- no approval on stale prices), or a CostPolicy says no (PolicyViolated, whatever the policy).
local hs = {}

local function condition(t)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == t then
      return c
    end
  end
  return nil
end

local function describe(c)
  local msg = c.reason or ""
  if c.message ~= nil and c.message ~= "" then
    msg = msg .. ": " .. c.message
  end
  return msg
end

local generation = obj.metadata.generation or 0
if obj.status == nil or obj.status.observedGeneration == nil or obj.status.observedGeneration ~= generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the estimate of generation " .. tostring(generation)
  return hs
end

-- Reconciling is True only while a price catalog cannot be read; the operator retries with backoff.
local reconciling = condition("Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = "Reconciling: " .. describe(reconciling)
  return hs
end

local ready = condition("Ready")
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  if ready ~= nil then
    hs.message = "Estimating: " .. describe(ready)
  else
    hs.message = "Estimating"
  end
  return hs
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = "Cannot estimate: " .. describe(ready)
  return hs
end

local approved = condition("Approved")
if approved == nil or approved.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the verdict"
  return hs
end
if approved.status == "True" then
  hs.status = "Healthy"
  hs.message = "Approved: recommendation " .. tostring(obj.status.recommendation) ..
    ", upfront " .. tostring(obj.status.upfrontCost) .. " " .. tostring(obj.status.currency)
  return hs
end
if approved.reason == "PolicyViolated" then
  hs.status = "Degraded"
  hs.message = "Not approved by a CostPolicy: " .. describe(approved)
  return hs
end
if obj.spec ~= nil and obj.spec.policy == "Enforce" then
  hs.status = "Degraded"
  hs.message = "Not approved under policy Enforce: " .. describe(approved)
  return hs
end
hs.status = "Healthy"
hs.message = "Not approved (policy Advisory): " .. describe(approved)
return hs
