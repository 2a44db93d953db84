-- replay.lua: wrk sends requests read from a JSON lines file (one AuthZEN
-- evaluation request per line, as `verdict gen --requests` writes them), each
-- line at most once per run.
--
--   wrk -t T -c C -d D -s replay.lua URL -- FILE START COUNT API PATH
--
-- The run sends lines START .. START+COUNT-1 of FILE; thread k of T takes
-- lines START+k, START+k+T, ..., read as they are sent (nothing is held in
-- memory; the part must lie inside the file). API "opa" wraps each request as {"input": ...} (OPA's data API),
-- "authzen" sends it as is. A thread that runs out of its lines starts them
-- again, and every request it sends from then on counts as repeated: done()
-- prints the count with the summary, so a run that repeated is known.
local threads, created = {}, 0

function setup(thread)
	thread:set("tid", created)
	created = created + 1
	table.insert(threads, thread)
end

local f, first, quota, taken, stride, api, path, headers

local function skip(n)
	for _ = 1, n do
		if not f:read("*l") then
			return false
		end
	end
	return true
end

function init(args)
	local file, start, count = args[1], tonumber(args[2]), tonumber(args[3])
	api, path, stride = args[4], args[5], tonumber(args[6])
	f = assert(io.open(file, "r"))
	assert(skip(start), "the file ends before line " .. start)
	first = f:seek()
	quota = math.floor((count - tid + stride - 1) / stride)
	assert(quota > 0, "no line of the part for thread " .. tid)
	skip(tid)
	taken, repeated = 0, 0
	headers = { ["Content-Type"] = "application/json" }
end

local wrapped = false

local function nextline()
	if taken >= quota then
		f:seek("set", first)
		skip(tid)
		taken, wrapped = 0, true
	end
	local line = assert(f:read("*l"), "the file ends inside the part")
	skip(stride - 1)
	taken = taken + 1
	return line
end

function request()
	local line = nextline()
	if wrapped then
		repeated = repeated + 1
	end
	if api == "opa" then
		line = '{"input":' .. line .. "}"
	end
	return wrk.format("POST", path, headers, line)
end

function done(summary, latency, requests)
	local rep = 0
	for _, t in ipairs(threads) do
		rep = rep + (t:get("repeated") or 0)
	end
	local e = summary.errors
	io.write(string.format(
		'WRKRESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"repeated":%d,"p50_us":%d,"p99_us":%d}\n',
		summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, rep,
		latency:percentile(50), latency:percentile(99)))
end
