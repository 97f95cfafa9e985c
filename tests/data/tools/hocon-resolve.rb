#!/usr/bin/env ruby
# encoding: utf-8
#
# hocon-resolve.rb -- differential-testing oracle for HOCON resolution, backed
# by ruby-hocon 1.3.1 (Debian ruby-hocon; what PE reads pe.conf with).
#
#   ruby hocon-resolve.rb < cases.json
#
# stdin: a JSON array of cases, each {"name": ..., "text": "..."} (parsed with
# ConfigFactory.parse_string, HOCON syntax unless "syntax": "json") or
# {"name": ..., "file": "/path"} (ConfigFactory.parse_file: includes are
# followed, the syntax comes from the extension).
# stdout: a JSON array of {"name": ..., "value": <the resolved root>} or
# {"name": ..., "error": "Class: message"}, in the same order.
# Written for this project (issue 15).

require 'json'
require 'timeout'
require 'hocon'
require 'hocon/config_factory'
require 'hocon/config_parse_options'
require 'hocon/config_syntax'
require 'hocon/config_render_options'

def resolve(c)
  Timeout.timeout(30) do
    config = if c['file']
               Hocon::ConfigFactory.parse_file(c['file'])
             else
               opts = Hocon::ConfigParseOptions.defaults
               opts = opts.set_syntax(c['syntax'] == 'json' ? Hocon::ConfigSyntax::JSON : Hocon::ConfigSyntax::CONF)
               Hocon::ConfigFactory.parse_string(c['text'], opts)
             end
    rendered = config.resolve.root.render(Hocon::ConfigRenderOptions.concise)
    { 'value' => JSON.parse(rendered) }
  end
rescue Exception => e
  raise if e.is_a?(Interrupt)
  { 'error' => "#{e.class.name}: #{e.message}".encode('UTF-8', invalid: :replace, undef: :replace) }
end

cases = JSON.parse($stdin.read)
out = cases.map { |c| { 'name' => c['name'] }.merge(resolve(c)) }
$stdout.write(JSON.generate(out, ascii_only: true))
