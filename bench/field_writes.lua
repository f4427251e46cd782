-- wrk script: volunteers tagging trees (one connection per wrk thread, so each is one volunteer).
--
--   wrk -t32 -c32 -d20s -s bench/field_writes.lua http://host:port -- TOKEN POINTS_FILE MODE RUN
--
-- MODE "create": create trees (client-chosen id inside a farm); 10% of creates are sent again
--   (a phone that lost the answer) and must come back 200 with the same tree.
-- MODE "flow":   create, then patch the new tree under If-Match; 10% of creates re-sent as above,
--   and 10% of patches re-sent with the old ETag (must be refused with 412, never applied twice).
-- POINTS_FILE holds "lon lat" lines inside farms, each LINE_BYTES long; each thread takes its own
-- slice, so no two volunteers tag the same spot. RUN makes this run's ids and codes unique.
-- wrk runs every thread's init() in its main thread while the threads already started are sending,
-- so each thread seeks to its slice and reads only that: parsing the whole file 32 times took
-- about a CPU-second at the start of every measured run, on the server's two cores.

local threads = {}
local LINE_BYTES = 28  -- "%013.9f %013.9f\n" (bench/workloads.py, _write_points)
local counter = 0

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   token, points_file, mode, run = args[1], args[2], args[3], tonumber(args[4])
   nthreads = tonumber(args[5])
   local f = assert(io.open(points_file, "rb"))
   per_thread = math.floor(f:seek("end") / LINE_BYTES / nthreads)
   f:seek("set", id * per_thread * LINE_BYTES)
   points = {}
   for _ = 1, per_thread do
      local x, y = f:read(LINE_BYTES):match("^(%S+) (%S+)")
      table.insert(points, {tonumber(x), tonumber(y)})
   end
   f:close()
   math.randomseed(run + id)
   state = "create"
   created, create_retries_ok, patched, patch_retries_412, refused, failed = 0, 0, 0, 0, 0, 0
   json_headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
end

local function next_tree()
   counter = counter + 1
   -- The flow run starts halfway through the thread's slice, away from the create run's trees.
   local offset = 0
   if mode == "flow" then offset = math.floor(per_thread / 2) end
   local p = points[(offset + counter - 1) % per_thread + 1]
   fid = string.format("%08x-%04x-4000-8000-%012x", run, id, counter)
   body = string.format(
      '{"type":"Feature","id":"%s","geometry":{"type":"Point","coordinates":[%.9f,%.9f]},' ..
      '"properties":{"code":"W-%08x-%d-%d","name":"Cây wrk","province":"Đắk Lắk","commune":"xã Ea Kly",' ..
      '"variety":"ri6","health":"khoe","gps_accuracy_m":5}}', fid, p[1], p[2], run, id, counter)
end

function request()
   if state == "create" then
      next_tree()
   end
   if state == "create" or state == "retry_create" then
      return wrk.format("POST", "/api/v1/layers/durian_trees/features?confirm_nearby=true", json_headers, body)
   end
   local headers = {["Authorization"] = json_headers["Authorization"], ["Content-Type"] = "application/json",
                    ["If-Match"] = etag}
   return wrk.format("PATCH", "/api/v1/layers/durian_trees/features/" .. fid, headers,
                     '{"properties":{"health":"sau_benh"}}')
end

local function after_create()
   if mode == "flow" then return "patch" end
   return "create"
end

function response(status, headers, _)
   if state == "create" then
      if status == 201 then
         created = created + 1
         etag = headers["etag"] or headers["ETag"]
         if math.random() < 0.10 then state = "retry_create" else state = after_create() end
      else
         if status == 409 or status == 422 then refused = refused + 1 else failed = failed + 1 end
         state = "create"
      end
   elseif state == "retry_create" then
      if status == 200 then create_retries_ok = create_retries_ok + 1 else failed = failed + 1 end
      state = after_create()
   elseif state == "patch" then
      if status == 200 then
         patched = patched + 1
         if math.random() < 0.10 then state = "retry_patch" else state = "create" end
      else
         failed = failed + 1
         state = "create"
      end
   elseif state == "retry_patch" then
      if status == 412 then patch_retries_412 = patch_retries_412 + 1 else failed = failed + 1 end
      state = "create"
   end
end

function done(summary, latency, requests)
   local totals = {created = 0, create_retries_ok = 0, patched = 0, patch_retries_412 = 0, refused = 0, failed = 0}
   for _, t in ipairs(threads) do
      for k, _ in pairs(totals) do totals[k] = totals[k] + t:get(k) end
   end
   io.write(string.format(
      'RESULT {"created": %d, "create_retries_ok": %d, "patched": %d, "patch_retries_412": %d, "refused": %d, ' ..
      '"failed": %d, "requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f}\n',
      totals.created, totals.create_retries_ok, totals.patched, totals.patch_retries_412, totals.refused, totals.failed,
      summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
