--[[
typst.lua: the fixes pandoc's typst writer needs before Typst can make a PDF/UA-1 file of an edition.

Why each step exists (pandoc 3.9, Typst 0.15):
  * Images: the writer drops alt text, and PDF/UA-1 refuses an image without it. Each Image becomes
    raw Typst `image("/figures/x.svg", alt: "...")`, its path made absolute from the project root (the
    compiler's root), its alt text taken from `fig-alt`, else the image's description, else the caption of
    the figure holding it, else the file name.
  * Math: PDF/UA-1 also wants alt text on equations; the TeX source is the best text we have.
  * Divs: a chapter Div becomes a `#block[...]`, and Typst forbids page breaks inside blocks, so any Div
    holding a level-1 heading is unwrapped (its id survives as an invisible `metadata` label under the
    heading). Part and author Divs become calls of template functions (`part-page`, `chapter-authors`), the
    `#refs` Div is wrapped in `reference-list`.
  * Citations: citeproc already rendered them; the Cite wrapper is dropped so the writer does not
    turn it into Typst's own `#cite`.
  * Links: Typst fails on a link to a label that does not exist, so a link to a missing `#id` keeps
    its text and loses the link.
  * Running heads: each level-1 heading is followed by `#metadata("short title") <running-head>`, a plain
    string the template can show in the page header.
  * Captions: the caption's "Figure 3:" label (already in the text) is set in bold.
  * Metadata: values the template needs as Typst code (language, region, paper size, date, authors as
    strings) are computed here, once, as raw Typst, so the template never splices text into code.
Nothing is numbered here: ASSEMBLE already put every number into the text.
]]

local stringify = pandoc.utils.stringify

-- Typst string literal for any text: backslash, quote and control characters escaped.
local function typst_string(text)
  local escaped = text:gsub('[\\"%c]', function(c)
    if c == "\\" then return "\\\\" end
    if c == '"' then return '\\"' end
    if c == "\n" then return "\\n" end
    if c == "\r" then return "\\r" end
    if c == "\t" then return "\\t" end
    return string.format("\\u{%x}", string.byte(c))
  end)
  return '"' .. escaped .. '"'
end

-- Collapse runs of white space: alt text and running heads are one line.
local function squeeze(text)
  return (text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function raw_inline(code) return pandoc.RawInline("typst", code) end
local function raw_block(code) return pandoc.RawBlock("typst", code) end
local function meta_raw(code) return pandoc.MetaInlines({ raw_inline(code) }) end

-- A CSS-like length from a Pandoc image attribute as a Typst length, or nil when it has no Typst form.
local function typst_length(value)
  if not value then return nil end
  local number, unit = value:match("^%s*(%d*%.?%d+)%s*(%a*%%?)%s*$")
  if not number then return nil end
  if unit == "%" or unit == "cm" or unit == "mm" or unit == "in" or unit == "pt" or unit == "em" then
    return number .. unit
  end
  if unit == "" or unit == "px" then -- CSS pixels: 96 per inch
    return string.format("%gpt", tonumber(number) * 0.75)
  end
  return nil
end

-- Root-relative posix path -> the absolute-from-root form Typst resolves against its `root`.
local function root_path(src)
  local path = src:gsub("^%./", "")
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  return path
end

------------------------------------------------------------------------------------------------------------
-- Metadata

-- The template puts metadata at the start of a content block `[...]`, where Typst would read "2024. A"
-- as a numbered list item, "- x" as a bullet or "= x" as a heading; the writer escapes such starts only
-- in the body. An empty `#[]` in front means no metadata text starts a line.
local function line_start_safe(inlines)
  local safe = pandoc.Inlines({ raw_inline("#[]") })
  safe:extend(inlines)
  return safe
end

local MONTHS = {
  en = { "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
         "November", "December" },
  de = { "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
         "November", "Dezember" },
  fr = { "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre" },
  fi = { "tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta", "toukokuuta", "kesäkuuta", "heinäkuuta",
         "elokuuta", "syyskuuta", "lokakuuta", "marraskuuta", "joulukuuta" },
  es = { "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
         "noviembre", "diciembre" },
}

-- How a date reads on the title page in the edition's language; ISO form when the language is unknown.
local function display_date(language, region, year, month, day)
  local names = MONTHS[language]
  if not names then return string.format("%04d-%02d-%02d", year, month, day) end
  local name = names[month]
  if language == "en" and region == "US" then return string.format("%s %d, %d", name, day, year) end
  if language == "en" or language == "fr" then return string.format("%d %s %d", day, name, year) end
  if language == "es" then return string.format("%d de %s de %d", day, name, year) end
  return string.format("%d. %s %d", day, name, year) -- de, fi
end

-- BCP 47 tag -> Typst's language (ISO 639, 2-3 letters) and region (ISO 3166, 2 letters) or nil.
local function split_lang(tag)
  local language, region, index = nil, nil, 0
  for part in tostring(tag):gmatch("[^-_]+") do
    index = index + 1
    if index == 1 then
      if part:match("^%a%a%a?$") then language = part:lower() end
    elseif part:match("^%a%a$") and not region then
      region = part:upper()
    end
  end
  return language or "en", region
end

local PAPERS = { a4 = "a4", ["us-letter"] = "us-letter", letter = "us-letter", a5 = "a5",
                 ["us-legal"] = "us-legal", legal = "us-legal" }

local function running_string(text, limit)
  text = squeeze(text)
  if (utf8.len(text) or #text) <= limit then return text end
  local kept = ""
  for word in text:gmatch("%S+") do
    local next_text = kept == "" and word or (kept .. " " .. word)
    if utf8.len(next_text) and utf8.len(next_text) > limit - 1 then break end
    kept = next_text
  end
  if kept == "" then kept = text:sub(1, limit) end
  return (kept:gsub("[%s,;:%.%-–—]+$", "")) .. "…"
end

local function set_meta(meta)
  local language, region = split_lang(meta.lang and stringify(meta.lang) or "en")
  meta["typst-lang"] = meta_raw(typst_string(language))
  meta["typst-region"] = meta_raw(region and typst_string(region) or "none")

  local paper = PAPERS[(meta.papersize and stringify(meta.papersize) or "a4"):lower()] or "a4"
  meta["typst-paper"] = meta_raw(typst_string(paper))

  local year, month, day = (meta.date and stringify(meta.date) or ""):match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if year then
    year, month, day = tonumber(year), tonumber(month), tonumber(day)
    meta["typst-date"] = meta_raw(string.format("datetime(year: %d, month: %d, day: %d)", year, month, day))
    meta["display-date"] = meta_raw(typst_string(display_date(language, region, year, month, day)))
  else
    meta["typst-date"] = meta_raw("auto")
  end

  local authors = meta.author
  if authors and pandoc.utils.type(authors) ~= "List" then authors = { authors } end
  local people, names = pandoc.List(), pandoc.List()
  for _, author in ipairs(authors or {}) do
    if pandoc.utils.type(author) == "table" and author.name then author = author.name end -- {name: ...}
    local name = squeeze(stringify(author))
    if name ~= "" then
      names:insert(typst_string(name))
      people:insert(pandoc.MetaInlines(line_start_safe(pandoc.Inlines(author))))
    end
  end
  meta.author = people
  meta["typst-authors"] = meta_raw("(" .. table.concat(names, ", ") .. (#names == 1 and ",)" or ")"))

  local status = meta.status and stringify(meta.status):lower() or ""
  meta["typst-draft"] = meta_raw(status == "draft" and "true" or "false")
  local description = meta.description and squeeze(stringify(meta.description)) or ""
  meta["typst-description"] = meta_raw(description ~= "" and typst_string(description) or "none")

  local shown = { "title", "subtitle", "edition-title", "paper-title", "cite-as", "rights", "toc-title" }
  for _, key in ipairs(shown) do
    if meta[key] and pandoc.utils.type(meta[key]) == "Inlines" then
      meta[key] = pandoc.MetaInlines(line_start_safe(meta[key]))
    end
  end

  local short = meta["short-title"] or meta.title
  meta["running-title"] = meta_raw(typst_string(running_string(short and stringify(short) or "", 48)))
  return meta
end

------------------------------------------------------------------------------------------------------------
-- Identifiers the typst writer turns into labels, so links to anything else can be unlinked.

local known_ids = {}

local function holds_chapter_heading(div)
  local found = false
  div:walk({ Header = function(h) if h.level == 1 then found = true end end })
  return found
end

local SPECIAL = { part = true, authors = true }

local function remember(element)
  if element.identifier and element.identifier ~= "" then known_ids[element.identifier] = true end
end

local collect = {
  Header = remember, Span = remember, Figure = remember, Table = remember,
  Div = function(div)
    -- A Div that will be unwrapped keeps its id only as metadata under its heading (see unwrap below);
    -- part and author Divs become template calls without a label.
    if div.identifier ~= "" and not (SPECIAL[div.classes[1]] and #div.classes == 1) then
      known_ids[div.identifier] = true
    end
  end,
}

------------------------------------------------------------------------------------------------------------
-- Alt text

-- Caption text without its leading "Figure 3: " label (one word, a number, a colon; "Tableau 2 :" too),
-- which a screen reader would otherwise hear twice.
local function caption_text(caption_blocks)
  local text = squeeze(stringify(caption_blocks))
  local rest = text:match("^%S+%s%d[%d%.]*%s?:%s+(.+)$") or text:match("^%S+%s%d[%d%.]*\194\160:%s+(.+)$")
  return rest or text
end

local function image_alt(image)
  local alt = image.attributes["fig-alt"]
  if alt and squeeze(alt) ~= "" then return squeeze(alt) end
  return squeeze(stringify(image.caption))
end

-- Images in a figure without a description of their own borrow the figure's caption.
local fill_alt = {
  Figure = function(figure)
    local fallback = caption_text(figure.caption.long)
    if fallback == "" then return nil end
    return figure:walk({
      Image = function(image)
        if image_alt(image) == "" then
          image.attributes["fig-alt"] = fallback
          return image
        end
        local alt = image_alt(image)
        local stripped = caption_text({ pandoc.Plain({ pandoc.Str(alt) }) })
        if stripped ~= alt and fallback:sub(1, #stripped) == stripped then
          image.attributes["fig-alt"] = stripped -- drop the duplicated "Figure 3:" label
          return image
        end
      end,
    })
  end,
}

------------------------------------------------------------------------------------------------------------
-- Inline fixes

local function file_name(src)
  return src:match("([^/]+)$") or src
end

local function image_code(image)
  local alt = image_alt(image)
  if alt == "" then alt = file_name(image.src) end
  local args = { typst_string(root_path(image.src)) }
  local width = typst_length(image.attributes.width)
  local height = typst_length(image.attributes.height)
  if width then table.insert(args, "width: " .. width) end
  if height then table.insert(args, "height: " .. height) end
  table.insert(args, "alt: " .. typst_string(alt))
  return "image(" .. table.concat(args, ", ") .. ")"
end

-- Typst math as the writer makes it, with the TeX source as its alt text.
local function math_code(math)
  local written = pandoc.write(pandoc.Pandoc({ pandoc.Plain({ math }) }), "typst")
  written = written:gsub("^%s+", ""):gsub("%s+$", "")
  local display = math.mathtype == "DisplayMath"
  return string.format("#math.equation(block: %s, alt: %s, %s.body)",
    display and "true" or "false", typst_string(squeeze(math.text)), written)
end

local inline_fixes = {
  -- citeproc already wrote each citation's text (and its link to the entry); the writer would
  -- otherwise emit Typst's own `#cite(<key>)`, which looks for a Typst bibliography that is not there.
  Cite = function(cite) return cite.content end,
  Image = function(image) return raw_inline("#box(" .. image_code(image) .. ")") end,
  Math = function(math) return raw_inline(math_code(math)) end,
  Link = function(link)
    local target = link.target:match("^#(.+)$")
    if target and not known_ids[target] then return link.content end
  end,
}

-- Inside a figure the image is the figure's body, not an inline box.
local function figure_image(figure)
  return figure:walk({
    Image = function(image) return raw_inline("#" .. image_code(image)) end,
  })
end

-- How many leading inlines make up a caption's label: `Str "Figure", Space, Str "3:"` (3), or with the
-- colon apart as French sets it, `Str "Tableau", Space, Str "2", Space, Str ":"` (5); 0 when none.
local function label_length(inlines)
  local function is(index, kind, pattern)
    local item = inlines[index]
    return item and item.t == kind and (pattern == nil or item.text:match(pattern) ~= nil)
  end
  if not (is(1, "Str", "^%a") and (is(2, "Space") or is(2, "Str", "^\194\160$"))) then return 0 end
  if is(3, "Str", "^%d[%d%.]*:$") or is(3, "Str", "^%d[%d%.]*\194\160:$") then return 3 end
  if is(3, "Str", "^%d[%d%.]*$") and is(4, "Space") and is(5, "Str", "^:$") then return 5 end
  return 0
end

-- The caption's "Figure 3:" label (already in the text) set in bold: ASSEMBLE marks it with a
-- `caption-label` Span; a hand-written caption label is recognised by its shape.
local function bold_label(caption_blocks)
  local first = caption_blocks[1]
  if not first or (first.t ~= "Plain" and first.t ~= "Para") then return caption_blocks end
  local inlines = first.content
  if inlines[1] and inlines[1].t == "Span" and inlines[1].classes:includes("caption-label") then
    first.content = pandoc.Inlines({ pandoc.Strong(inlines[1].content) })
    for index = 2, #inlines do first.content:insert(inlines[index]) end
    return caption_blocks
  end
  local length = label_length(inlines)
  if length == 0 then return caption_blocks end
  local label, rest = pandoc.Inlines({}), pandoc.Inlines({})
  for index, item in ipairs(inlines) do
    if index <= length then label:insert(item) else rest:insert(item) end
  end
  rest:insert(1, pandoc.Strong(label))
  first.content = rest
  return caption_blocks
end

------------------------------------------------------------------------------------------------------------
-- Block fixes

-- Column widths. Pandoc gives a pipe table widths from the length of its dashes, a guess that can
-- squeeze a column below its longest word, and Typst's auto columns starve a long-text column. So:
-- a table whose text fits on a line keeps auto widths; otherwise each column gets a share that grows
-- with the square root of its longest cell, never less than its longest word. Counted in characters of
-- the table's type size across the text width (about 88), which is close enough for proportions.
local LINE_CHARS = 88
local CELL_PADDING = 3

local function table_rows(tbl)
  local rows = pandoc.List() -- a new list: pandoc.List(x) would wrap, and then grow, the head itself
  rows:extend(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    rows:extend(body.head)
    rows:extend(body.body)
  end
  rows:extend(tbl.foot.rows)
  return rows
end

local function longest_word(text)
  local longest = 0
  for word in text:gmatch("[^%s/%-]+") do longest = math.max(longest, utf8.len(word) or #word) end
  return longest
end

local function column_widths(tbl)
  local count = #tbl.colspecs
  local longest_cell, min_width = {}, {}
  for index = 1, count do longest_cell[index], min_width[index] = 1, CELL_PADDING end
  for _, row in ipairs(table_rows(tbl)) do
    local column = 1
    for _, cell in ipairs(row.cells) do
      if cell.col_span == 1 and column <= count then
        local text = squeeze(stringify(cell.contents))
        longest_cell[column] = math.max(longest_cell[column], utf8.len(text) or #text)
        min_width[column] = math.max(min_width[column], longest_word(text) + CELL_PADDING)
      end
      column = column + cell.col_span
    end
  end
  local natural, given_ok = 0, true
  for index = 1, count do
    natural = natural + longest_cell[index] + CELL_PADDING
    local given = tbl.colspecs[index][2]
    if given and given > 0 and given * LINE_CHARS < min_width[index] then given_ok = false end
  end
  local has_given = tbl.colspecs[1] and tbl.colspecs[1][2] and tbl.colspecs[1][2] > 0
  if has_given and given_ok then return nil end -- the author's widths hold every word
  if natural <= LINE_CHARS then return has_given and {} or nil end -- fits: auto widths
  local shares, total_root = {}, 0
  for index = 1, count do total_root = total_root + math.sqrt(longest_cell[index]) end
  local sum = 0
  for index = 1, count do
    shares[index] = math.max(min_width[index], math.sqrt(longest_cell[index]) / total_root * LINE_CHARS)
    sum = sum + shares[index]
  end
  for index = 1, count do shares[index] = shares[index] / sum end
  return shares
end

-- Rows whose links keep only their text.
local function unlinked_rows(rows)
  local out = pandoc.List()
  for _, row in ipairs(rows) do
    local cells = pandoc.List()
    for _, cell in ipairs(row.cells) do
      local contents = pandoc.Blocks(cell.contents):walk({ Link = function(link) return link.content end })
      cells:insert(pandoc.Cell(contents, cell.alignment, cell.row_span, cell.col_span, cell.attr))
    end
    out:insert(pandoc.Row(cells, row.attr))
  end
  return out
end

local function blocks_between(open, blocks, close)
  local out = pandoc.List({ raw_block(open) })
  out:extend(blocks)
  out:insert(raw_block(close))
  return out
end

-- Content of a Div that must not be a container; its id becomes a metadata label under its first heading.
local function unwrap(div)
  local blocks = pandoc.List(div.content)
  if div.identifier ~= "" then
    local label = raw_block("#metadata(none) #label(" .. typst_string(div.identifier) .. ")")
    local position = (blocks[1] and blocks[1].t == "Header") and 2 or 1
    blocks:insert(position, label)
  end
  return blocks
end

local block_fixes = {
  Figure = function(figure)
    figure.caption.long = bold_label(figure.caption.long)
    return figure_image(figure)
  end,
  Table = function(tbl)
    tbl.caption.long = bold_label(tbl.caption.long)
    -- Header and footer rows repeat on every page a table spans, as artifacts, and PDF/UA-1 forbids
    -- links in artifacts: their cells keep a link's text only.
    tbl.head = pandoc.TableHead(unlinked_rows(tbl.head.rows), tbl.head.attr)
    tbl.foot = pandoc.TableFoot(unlinked_rows(tbl.foot.rows), tbl.foot.attr)
    -- The writer centres the table, and cells without an alignment would inherit that: text reads
    -- better ranged left unless the author asked otherwise.
    local widths = column_widths(tbl)
    for index, spec in ipairs(tbl.colspecs) do
      if spec[1] == "AlignDefault" then spec[1] = "AlignLeft" end
      if widths then spec[2] = widths[index] end
    end
    return tbl
  end,
  Div = function(div)
    if div.classes:includes("part") then
      return blocks_between("#part-page[", div.content, "]")
    end
    if div.classes:includes("authors") then
      return blocks_between("#chapter-authors[", div.content, "]")
    end
    if div.identifier == "refs" then
      local hanging = div.classes:includes("hanging-indent") and "true" or "false"
      return blocks_between("#reference-list(hanging: " .. hanging .. ")[", { div }, "]")
    end
    if holds_chapter_heading(div) then return unwrap(div) end
  end,
}

-- After each level-1 heading: a short plain-text title for the running head.
local running_heads = {
  Blocks = function(blocks)
    local out = pandoc.List()
    for _, block in ipairs(blocks) do
      out:insert(block)
      if block.t == "Header" and block.level == 1 then
        local text = running_string(stringify(block.content), 52)
        out:insert(raw_block("#metadata(" .. typst_string(text) .. ") <running-head>"))
      end
    end
    return out
  end,
}

return {
  collect,
  { Meta = set_meta },
  fill_alt,
  { Figure = block_fixes.Figure, Table = block_fixes.Table },
  { Cite = inline_fixes.Cite },
  { Image = inline_fixes.Image, Math = inline_fixes.Math, Link = inline_fixes.Link },
  { Div = block_fixes.Div },
  running_heads,
}
