"""PoseRefiner network f(I, P_input): a ResNet at stride 8 with heatmap and offset heads.

As the official code (a pose-tensorflow fork): ResNet-v1 with layer4 dilated (output stride
16), then one 3x3 stride-2 transposed convolution per head, so the maps have stride 8. The
first convolution takes RGB plus one binary disk channel per input joint. Parameter names
follow torchvision's ResNet, so a local torchvision state dict loads directly; the extra input
filters of the first convolution start from the mean of its RGB filters.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

STRIDE = 8
#: offsets are regressed in units of this many pixels (pose-tensorflow's locref_stdev)
LOCREF_STDEV = 7.2801

ARCHS = {  # name: (block, layers)
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + idt)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + idt)


class PoseRefiner(nn.Module):
    """Outputs ``heatmap`` logits (B, J, H/8, W/8) and ``locref`` (B, J, 2, H/8, W/8) in stdev units."""

    def __init__(self, num_joints: int = 15, arch: str = "resnet18", width: int = 64, input_skip: bool = False,
                 skip_init: float = 8.0):
        super().__init__()
        #: prt's addition (not in the paper): the input disks, pooled to stride 8, add to the heatmap
        #: logits with a learned per-joint weight, so a short training run starts from "the joint is
        #: where the input says" and learns the corrections from the image
        self.input_skip = input_skip
        if input_skip:
            self.skip_weight = nn.Parameter(torch.full((num_joints,), float(skip_init)))
        if arch not in ARCHS:
            raise ValueError(f"unknown architecture {arch!r}; use one of {', '.join(ARCHS)}")
        self.arch, self.num_joints = arch, num_joints
        kind, layers = ARCHS[arch]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.inplanes = width
        self.conv1 = nn.Conv2d(3 + num_joints, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, width, layers[0])
        self.layer2 = self._layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._layer(block, width * 8, layers[3], stride=1, dilation=2)  # atrous: stride 16
        feat = width * 8 * block.expansion
        self.part_head = nn.ConvTranspose2d(feat, num_joints, 3, 2, padding=1, output_padding=1)
        self.locref_head = nn.ConvTranspose2d(feat, 2 * num_joints, 3, 2, padding=1, output_padding=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(self.part_head.weight, std=0.001)
        nn.init.constant_(self.part_head.bias, -4.0)  # sigmoid ~ 0.02: most cells are negative
        nn.init.normal_(self.locref_head.weight, std=0.001)
        nn.init.zeros_(self.locref_head.bias)

    def _layer(self, block, planes, blocks, stride=1, dilation=1):
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                 nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, 1 if dilation == 1 else dilation // 2 or 1, down)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes, 1, dilation) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        disks = x[:, 3:]
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        heat = self.part_head(x)
        if self.input_skip:
            pooled = nn.functional.avg_pool2d(disks + 0.5, STRIDE)  # disk coverage of each cell, 0..1
            heat = heat + self.skip_weight[None, :, None, None] * pooled
        loc = self.locref_head(x)
        B, _, H, W = heat.shape
        return heat, loc.view(B, self.num_joints, 2, H, W)

    def config(self) -> dict:
        return {"arch": self.arch, "num_joints": self.num_joints, "width": self.conv1.out_channels,
                "input_skip": self.input_skip}


def load_pretrained(model: PoseRefiner, path: str | Path) -> list[str]:
    """Load a local torchvision ResNet state dict (no downloads); returns the keys not loaded.

    ``conv1.weight`` (64 x 3 x 7 x 7) fills the RGB input filters; each extra (joint) input filter
    starts as the mean of the RGB filters, as the paper initialises its extra channels."""
    from ..errors import ConfigError

    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as e:
        raise ConfigError(f"cannot load pretrained weights ({e})", file=path,
                          fix="give a torchvision ResNet state dict saved with torch.save") from None
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    own = model.state_dict()
    w = sd.get("conv1.weight")
    if w is not None and w.shape[1] == 3 and own["conv1.weight"].shape[0] == w.shape[0]:
        new = own["conv1.weight"].clone()
        new[:, :3] = w
        new[:, 3:] = w.mean(dim=1, keepdim=True)
        sd = dict(sd, **{"conv1.weight": new})
    usable = {k: v for k, v in sd.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(usable, strict=False)
    return sorted(set(own) - set(usable))
