--[[
media.lua: put every image of the document into pandoc's media bag, reading only files inside
the project.

Why: under --sandbox pandoc's writers may not read files, so an EPUB would lose its images.
Lua filters are not sandboxed, so this filter is the one place that reads image files, and it
is the boundary that keeps a chapter from pulling /etc/passwd or ~/.ssh/id_rsa into a book.

Contract
  * The project root comes from the environment variable PAPER_PROJECT_ROOT (an absolute path;
    the renderer sets it). Without it the filter refuses to run.
  * An Image's src is a project-root-relative POSIX path ("figures/network.svg"), possibly
    percent-encoded as pandoc writes it ("figures/my%20chart.png").
  * Refused, with an error that stops pandoc: web addresses and other URL schemes, absolute
    paths (/x, \x, C:\x, //host), backslashes, any '..' or empty segment, and file types other
    than PNG, JPEG, GIF, WebP and SVG. Checks run on the text before and after decoding.
    A symbolic link that leaves the project cannot be seen from Lua (no realpath); the Python
    renderer resolves every image path before pandoc starts and refuses those.
  * The file is inserted under its src, so the writer finds it without touching the disk,
    with the MIME type its extension names.
  * fig-alt="..." on an image replaces its alt text (the image's inline content) and is removed,
    so readers get the description the author wrote for them rather than the caption.
]]

local MIME = {
  png = "image/png",
  jpg = "image/jpeg",
  jpeg = "image/jpeg",
  gif = "image/gif",
  webp = "image/webp",
  svg = "image/svg+xml",
}

--- Stop pandoc with one plain line: it goes to stderr first so the caller shows it as is.
local function refuse(message)
  io.stderr:write("media.lua: " .. message .. "\n")
  error(message, 0)
end

local function percent_decode(text)
  return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

--- nil when `path` is a plain relative path inside the root, else why it is not.
local function lexical_problem(path)
  if path == "" then
    return "is empty"
  end
  if path:match("^%a[%w+.-]*:") or path:sub(1, 2) == "//" then
    return "is not a file in the project (it names a scheme or a host)"
  end
  if path:sub(1, 1) == "/" then
    return "is an absolute path"
  end
  if path:find("\\", 1, true) then
    return "contains a backslash; use '/' between folders"
  end
  if path:find("%z") then
    return "contains a NUL byte"
  end
  for segment in (path .. "/"):gmatch("([^/]*)/") do
    if segment == ".." then
      return "climbs out with '..'"
    end
    if segment == "" then
      return "has an empty folder name ('//')"
    end
  end
  return nil
end

local function project_root()
  local root = os.getenv("PAPER_PROJECT_ROOT")
  if root == nil or root == "" or root:sub(1, 1) ~= "/" then
    refuse("PAPER_PROJECT_ROOT is not set to the project's absolute path")
  end
  return (root:gsub("/+$", ""))
end

local root = nil
local loaded = {}

local function load(src)
  if loaded[src] then
    return
  end
  root = root or project_root()
  local path = src:gsub("[?#].*$", "")
  local decoded = percent_decode(path)
  for _, candidate in ipairs({ path, decoded }) do
    local problem = lexical_problem(candidate)
    if problem then
      refuse("image '" .. src .. "' " .. problem .. "; images must be files inside the project")
    end
  end
  local extension = decoded:match("%.([%w]+)$")
  local mime = extension and MIME[extension:lower()]
  if not mime then
    refuse("image '" .. src .. "' is not a PNG, JPEG, GIF, WebP or SVG file")
  end
  local handle = io.open(root .. "/" .. decoded, "rb")
  if handle == nil then
    refuse("image '" .. src .. "' cannot be read from the project")
  end
  local contents = handle:read("a")
  handle:close()
  if contents == nil then
    refuse("image '" .. src .. "' cannot be read from the project")
  end
  pandoc.mediabag.insert(src, mime, contents)
  loaded[src] = true
end

function Image(image)
  load(image.src)
  local description = image.attributes["fig-alt"]
  if description ~= nil then
    image.attributes["fig-alt"] = nil
    if description ~= "" then
      image.caption = pandoc.Inlines(description)
    end
    return image
  end
end
