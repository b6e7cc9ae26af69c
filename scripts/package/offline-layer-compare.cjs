'use strict';
/**
 * A local serverless plugin (listed in serverless.yml) so that `sls package` runs with no network.
 *
 * When a service has layers, the framework's package step asks CloudFormation for the deployed
 * stack's outputs to reuse an already uploaded, identical layer (AwsCompileLayers.compareWithLastLayer).
 * That is an upload optimisation for `deploy`; with dummy credentials and no network it fails the
 * whole `package` ("Inaccessible host: cloudformation.us-east-1.amazonaws.com") after about a minute.
 *
 * - SLS_OFFLINE_PACKAGE=1: skip the comparison (every layer counts as new: same artefacts).
 * - otherwise: try it, and if CloudFormation cannot be reached at all, warn and go on.
 */
const UNREACHABLE = /Inaccessible host|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|socket hang up|Missing credentials/i;

class OfflineLayerCompare {
  constructor(serverless, _options, { log } = {}) {
    this.hooks = {
      'before:package:compileLayers': () => {
        const plugin = serverless.pluginManager.plugins.find((p) => p?.constructor && p.constructor.name === 'AwsCompileLayers');
        if (!plugin || plugin.__offlineLayerCompare) return;
        plugin.__offlineLayerCompare = true;
        const original = plugin.compareWithLastLayer.bind(plugin);
        plugin.compareWithLastLayer = async (layerName) => {
          if (process.env.SLS_OFFLINE_PACKAGE === '1') return undefined;
          try {
            return await original(layerName);
          } catch (error) {
            if (!UNREACHABLE.test(String(error?.message))) throw error;
            (log ? log.warning : console.warn)(`layer ${layerName}: CloudFormation unreachable, packaging it as new (${error.message})`);
            return undefined;
          }
        };
      },
    };
  }
}

module.exports = OfflineLayerCompare;
